// Renders /openapi.json with Swagger UI. Relative URLs, so the page also works behind a path prefix.
window.ui = SwaggerUIBundle({
  url: "openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  docExpansion: "list",
  defaultModelsExpandDepth: 1,
  displayRequestDuration: true,
  persistAuthorization: false,
});
