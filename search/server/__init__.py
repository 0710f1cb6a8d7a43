"""Server: the search page and the HTTP JSON API over one live index (`kensaku serve`).

- `app`: the routes, the security headers and the serving process;
- `api_schema`: the JSON API's response bodies for its OpenAPI description;
- `pages`: what the page's templates show, worked out from results;
- `templates/`, `static/`: the page's HTML and its style.
"""
