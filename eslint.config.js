// eslint for the browser scripts (`make lint-js`, run by `make test`): the recommended rules.
// The scripts are ES modules loaded by the pages (script-src 'self'), run in the browser only.
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["chatapp/static/js/**/*.js"],
    languageOptions: {
      ecmaVersion: "latest",
      sourceType: "module",
      globals: globals.browser,
    },
  },
];
