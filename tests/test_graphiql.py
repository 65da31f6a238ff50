"""GET /graphql in a browser: GraphiQL, with its scripts and styles served by Spek (the browser test runs it)."""

import base64
import hashlib
import re

from tests.support import GraphQLClient


def test_graphiql_page_loads_only_files_spek_serves_with_their_pinned_hashes(client: GraphQLClient) -> None:
    page = client.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "GraphiQL" in page.text
    assert "unpkg" not in page.text and "cdn" not in page.text.lower()
    assets = re.findall(r'(?:src|href)="([^"]+)"\s+integrity="(sha384-[^"]+)"', page.text)
    assert len(assets) == 6, assets
    for path, integrity in assets:
        assert path.startswith("vendor/graphiql/"), path
        answer = client.http.get("/" + path)
        assert answer.status_code == 200, path
        digest = "sha384-" + base64.b64encode(hashlib.sha384(answer.content).digest()).decode()
        assert digest == integrity, path
