# Claude Code: one command per server (add `--scope user` to have it in every project).
# stdio, on a real configuration (the token comes from csp.api_token_file in the TOML):
claude mcp add tanzu -- /home/me/.cargo/bin/tanzu-mcp serve --config /home/me/.config/tanzu-mcp/tanzu-mcp.toml
# stdio, on the built-in simulator (no credentials):
claude mcp add tanzu-sandbox -- /home/me/.cargo/bin/tanzu-mcp serve --sandbox
# Streamable HTTP, to a server started with `tanzu-mcp serve --sandbox --transport http`:
claude mcp add --transport http tanzu-http http://127.0.0.1:8080/mcp
