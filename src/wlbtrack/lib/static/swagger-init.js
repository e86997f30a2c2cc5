// Starts Swagger UI on /schema/swagger. A file of its own, so that the page's CSP can forbid inline scripts.
window.addEventListener("load", () => {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null, // the default would send the document's address to validator.swagger.io
    presets: [SwaggerUIBundle.presets.apis],
  });
});
