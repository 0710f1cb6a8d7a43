"""MCP: the index served to AI assistants over the Model Context Protocol (`kensaku mcp`).

An assistant (Claude Desktop, VS Code, Cursor, any MCP client) starts `kensaku mcp` and talks to it
over stdio, or reaches it over streamable HTTP: it searches, reads the paragraphs it quotes, lists
the documents and asks how the index stands, every answer carrying its citation.

- `library`: what the tools and resources ask of the live index, answered as `schema`'s models;
- `schema`: the tools' inputs' bounds and outputs, whose JSON schemas the tools publish;
- `rendering`: the short text each answer also comes as, for a model that reads only text;
- `descriptions`: what the tools and the server say of themselves to a model;
- `server`: the MCP server (the official Python SDK), its errors as one line, stdio and HTTP.

Only `server` imports the SDK, the optional extra `kensaku[mcp]`.
"""
