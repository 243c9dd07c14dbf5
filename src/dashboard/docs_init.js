// Starts Swagger UI on the page at /docs with the daemon's own OpenAPI
// document; no request leaves forecastd (the online validator is off).
// When the dashboard was given an API token (kept in this tab, or on this
// device: page/token_store.ts), Swagger UI sends it to forecastd too.
const TOKEN_KEY = "forecastd.token";

function keptToken() {
  for (const storage of ["sessionStorage", "localStorage"]) {
    try {
      const token = globalThis[storage].getItem(TOKEN_KEY);
      if (token) return token;
    } catch {
      // storage switched off: no token kept
    }
  }
  return null;
}

globalThis.ui = globalThis.SwaggerUIBundle({
  url: new URL("openapi.json", document.baseURI).href,
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  tryItOutEnabled: false,
  requestInterceptor(request) {
    const token = keptToken();
    const url = new URL(request.url, document.baseURI);
    if (token && url.origin === location.origin && !request.headers.Authorization) {
      request.headers.Authorization = `Bearer ${token}`;
    }
    return request;
  },
});
