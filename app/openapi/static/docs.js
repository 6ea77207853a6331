// Swagger UI for this server. A separate file (not inline) so the page's
// Content-Security-Policy can stay at script-src 'self'.
(function () {
  "use strict";

  var root = document.getElementById("swagger-ui");

  function readCookie(name) {
    var prefix = name + "=";
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i += 1) {
      if (parts[i].indexOf(prefix) === 0) {
        return decodeURIComponent(parts[i].slice(prefix.length));
      }
    }
    return null;
  }

  // After a successful "Try it out" on register, login or refresh, authorize the
  // page with the new access token (and the CSRF cookie's value, for cookie
  // sessions), so the next call, e.g. GET /users/me, just works.
  function responseInterceptor(response) {
    var data = response && response.ok && response.body && response.body.data;
    if (data && data.accessToken && window.ui) {
      window.ui.preauthorizeApiKey("accessToken", data.accessToken);
      if (data.refreshToken) {
        window.ui.preauthorizeApiKey("refreshToken", data.refreshToken);
      }
      var csrf = readCookie("csrf_refresh_token");
      if (csrf) {
        window.ui.preauthorizeApiKey("csrfHeader", csrf);
      }
    }
    return response;
  }

  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: true,
    displayRequestDuration: true,
    tryItOutEnabled: false,
    // Same-origin calls: the browser sends the refresh cookie on its own.
    withCredentials: true,
    responseInterceptor: responseInterceptor,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
})();
