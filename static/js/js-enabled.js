// Runs first in <body>, before anything is drawn, as GOV.UK Frontend's template does inline.
document.body.className +=
  " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
