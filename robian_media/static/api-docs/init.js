// Swagger UI for /api/docs (robian_media/web/api_docs.py): our spec only. queryConfigEnabled stays
// false, so ?url= / ?configUrl= cannot load another spec on our origin (CVE-2018-25031).
window.addEventListener("load", () => {
  window.ui = SwaggerUIBundle({
    url: document.getElementById("swagger-ui").dataset.spec,
    dom_id: "#swagger-ui",
    queryConfigEnabled: false,
    validatorUrl: null,
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
