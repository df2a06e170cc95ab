// Loaded as a module from base.html, so the strict CSP needs no inline script for initialisation.
// Browsers without ES module support never run this file and keep the no-JS experience, which
// matches the govuk-frontend-supported class set in base.html.
import { initAll } from "../vendor/govuk-frontend/govuk-frontend.min.js";

initAll();
