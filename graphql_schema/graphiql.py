"""The GraphiQL page at GET /graphql: Strawberry's, with every script and style served by Spek itself
(`static/vendor/graphiql/`, versions in its README), so it works offline and loads nothing from elsewhere."""

# Asset paths are relative to /graphql, so a Spek behind a path prefix finds them too; the hashes are
# those of the unmodified npm files (and of Strawberry's CDN page).
GRAPHIQL_HTML = """<!doctype html>
<html>
  <head>
    <meta charset="utf-8" />
    <title>Spek GraphiQL</title>
    <link rel="icon" href="data:," />
    <style>
      body { height: 100%; margin: 0; width: 100%; overflow: hidden; }
      #graphiql { height: 100vh; display: flex; }
      .docExplorerHide { display: none; }
      .doc-explorer-contents { overflow-y: hidden !important; }
      .docExplorerWrap { width: unset !important; min-width: unset !important; }
      .graphiql-explorer-actions select { margin-left: 4px; }
    </style>
    <script
      src="vendor/graphiql/react.production.min.js"
      integrity="sha384-tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8"
    ></script>
    <script
      src="vendor/graphiql/react-dom.production.min.js"
      integrity="sha384-bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh"
    ></script>
    <link
      rel="stylesheet"
      href="vendor/graphiql/graphiql.min.css"
      integrity="sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM"
    />
    <link
      rel="stylesheet"
      href="vendor/graphiql/plugin-explorer.css"
      integrity="sha384-5DFJlDPW2tSATRbM8kzoP1j194jexLswuNmClWoRr2Q0x7R68JIQzPHZ02Faktwi"
    />
  </head>

  <body>
    <div id="graphiql" class="graphiql-container">Loading...</div>
    <script
      src="vendor/graphiql/graphiql.min.js"
      integrity="sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie"
    ></script>
    <script
      src="vendor/graphiql/plugin-explorer.umd.js"
      integrity="sha384-2oonKe47vfHIZnmB6ZZ10vl7T0Y+qrHQF2cmNTaFDuPshpKqpUMGMc9jgj9MLDZ9"
    ></script>
    <script>
      const EXAMPLE_QUERY = `# Welcome to Spek's GraphiQL
#
# Sign in with the register or login mutation, then put the access token in the
# Headers tab as {"Authorization": "Bearer <accessToken>"}.
#
# Run Query: Ctrl-Enter (or the play button above); Auto Complete: Ctrl-Space.
#
{ __typename }
`;

      // The query, variables and headers are kept in the page's URL, to share it.
      const parameters = {};
      for (const entry of window.location.search.slice(1).split("&")) {
        const eq = entry.indexOf("=");
        if (eq >= 0) {
          parameters[decodeURIComponent(entry.slice(0, eq))] = decodeURIComponent(entry.slice(eq + 1));
        }
      }

      function updateURL(data) {
        Object.assign(parameters, data);
        const newSearch =
          "?" +
          Object.keys(parameters)
            .filter((key) => Boolean(parameters[key]))
            .map((key) => encodeURIComponent(key) + "=" + encodeURIComponent(parameters[key]))
            .join("&");
        history.replaceState(null, null, newSearch);
      }

      const fetchURL = window.location.href.split("?")[0].split("#")[0];
      const subscriptionURL = new URL(fetchURL);
      subscriptionURL.protocol = subscriptionURL.protocol === "https:" ? "wss:" : "ws:";

      const fetcher = GraphiQL.createFetcher({ url: fetchURL, subscriptionUrl: subscriptionURL.toString() });

      function GraphiQLWithExplorer() {
        const [query, setQuery] = React.useState(parameters.q || EXAMPLE_QUERY);
        const [variables, setVariables] = React.useState(parameters.variables);
        const [headers, setHeaders] = React.useState(parameters.headers);
        const explorerPlugin = GraphiQLPluginExplorer.explorerPlugin();

        return React.createElement(GraphiQL, {
          fetcher: fetcher,
          defaultEditorToolsVisibility: true,
          plugins: [explorerPlugin],
          query: query,
          variables: variables,
          headers: headers,
          onEditQuery: (newQuery) => { setQuery(newQuery); updateURL({ q: newQuery }); },
          onEditVariables: (newVariables) => { setVariables(newVariables); updateURL({ variables: newVariables }); },
          onEditHeaders: setHeaders,
          inputValueDeprecation: true,
          isHeadersEditorEnabled: true,
          shouldPersistHeaders: true,
        });
      }

      ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(GraphiQLWithExplorer));
    </script>
  </body>
</html>
"""
