// Starts Swagger UI on the page at /docs with the daemon's own OpenAPI
// document; no request leaves forecastd (the online validator is off).
globalThis.ui = globalThis.SwaggerUIBundle({
  url: new URL("openapi.json", document.baseURI).href,
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  tryItOutEnabled: false,
});
