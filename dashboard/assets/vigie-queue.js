// Cells of the queue and triage grids (dashboard/components/queue_grid.py). Row data keeps what
// is stored (English keys such as "claimed", ISO UTC times); these show it in the reader's words,
// from the grid's context (labels and words the page took from the catalogue).
// dash-ag-grid evaluates a column's {"function": ...} with only its own names in scope (Math,
// Number, d3, params…) plus window.dashAgGridFunctions: these helpers, and vigie-i18n.js's time
// formatters, are registered there.
(function () {
  function table(params, kind) {
    var context = (params && params.context) || {};
    return (context.labels || {})[kind] || {};
  }
  function label(params, kind) {
    var value = params.value;
    if (value === null || value === undefined) { return ""; }
    var shown = table(params, kind)[value];
    return shown === undefined ? String(value) : shown;
  }
  function labels(params, kind) {  // "escalated, breached": each key's label
    var known = table(params, kind);
    return String(params.value || "").split(", ").filter(Boolean).map(function (k) {
      return known[k] === undefined ? k : known[k];
    }).join(", ");
  }
  function score(params) {  // -0.52 / -0,52, with its sign
    if (params.value === null || params.value === undefined || params.value === "") { return ""; }
    var language = ((params.context || {}).language) || "en";
    return new Intl.NumberFormat(language, {minimumFractionDigits: 2, maximumFractionDigits: 2,
                                            signDisplay: "exceptZero"}).format(params.value);
  }
  function sla(data) {  // computed at each render: the state moves with the clock, not only with changes
    if (!data) { return ""; }
    var now = new Date().toISOString();
    return data.due_at < now ? "breached" : (data.at_risk_at < now ? "at risk" : "on time");
  }
  function word(params, key) {
    return ((params.context || {}).cells || {})[key] || "";
  }
  window.vigieQueue = {label: label, labels: labels, score: score, sla: sla, word: word};
  window.dashAgGridFunctions = Object.assign(window.dashAgGridFunctions || {},
                                             {vigieQueue: window.vigieQueue, vigieI18n: window.vigieI18n});
}());
