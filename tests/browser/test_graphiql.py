"""GraphiQL at /graphql works offline: every script and style comes from Spek itself."""

import re
from urllib.parse import quote, urlsplit

from playwright.sync_api import Page, Route, expect


def test_graphiql_renders_and_runs_a_query_with_only_localhost_reachable(page: Page) -> None:
    refused: list[str] = []
    served: dict[str, int] = {}

    def only_localhost(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname == "127.0.0.1" or url.startswith("data:"):
            route.continue_()
        else:
            refused.append(url)
            route.abort("internetdisconnected")

    page.route("**/*", only_localhost)
    page.on("response", lambda response: served.__setitem__(response.url, response.status))
    page.goto("/graphql?q=" + quote("{ __typename }"))

    editor = page.locator(".graphiql-query-editor .CodeMirror")
    expect(editor).to_be_visible(timeout=20_000)
    expect(editor).to_contain_text("__typename")
    page.get_by_role("button", name=re.compile("Execute query")).click()
    expect(page.locator(".graphiql-response")).to_contain_text('"__typename": "Query"', timeout=20_000)

    assert refused == [], f"GraphiQL asked for files from elsewhere: {refused}"
    assets = {url: status for url, status in served.items() if "/vendor/graphiql/" in url}
    assert {urlsplit(url).path.rsplit("/", 1)[-1] for url in assets} == {
        "react.production.min.js",
        "react-dom.production.min.js",
        "graphiql.min.js",
        "graphiql.min.css",
        "plugin-explorer.umd.js",
        "plugin-explorer.css",
    }
    assert set(assets.values()) == {200}, assets
