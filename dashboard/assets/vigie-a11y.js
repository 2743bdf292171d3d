// Keyboard and screen-reader fixes for third-party components, applied as they appear on a page.
//
// Dash's dropdown (dcc.Dropdown, Dash 4) takes its trigger button out of the tab order and puts an
// invisible input marked aria-hidden before it, which hands the focus on to the button: a focusable
// element hidden from screen readers (axe: aria-hidden-focus). Here the button itself is in the tab
// order (Enter, Space or Arrow Down opens the list, as before) and the stand-in input is inert.
//
// Bootstrap tabs (dbc.Tabs under Dash 4) come out with every tab out of the tab order, all with the
// same id and naming a panel that does not exist: each tab here gets its panel's ids (the panels, in
// the same order, are right), aria-selected, and a place in the tab order (Enter opens it).
(function () {
  function fixDropdowns(root) {
    var targets = root.querySelectorAll ? root.querySelectorAll(".dash-dropdown-focus-target:not([inert])") : [];
    Array.prototype.forEach.call(targets, function (stand) {
      stand.setAttribute("inert", "");
      stand.tabIndex = -1;
      var button = stand.nextElementSibling;
      if (button && button.classList.contains("dash-dropdown")) { button.tabIndex = 0; }  // (disabled: not focusable)
    });
  }
  function fixTabs(root) {
    Array.prototype.forEach.call(root.querySelectorAll('[role="tablist"]'), function (list) {
      var content = list.nextElementSibling;
      var panels = content ? content.querySelectorAll(':scope > [role="tabpanel"]') : [];
      Array.prototype.forEach.call(list.querySelectorAll('[role="tab"]'), function (tab, i) {
        var panel = panels[i];
        if (panel && panel.id && tab.getAttribute("aria-controls") !== panel.id) {
          tab.setAttribute("aria-controls", panel.id);
          if (panel.getAttribute("aria-labelledby")) { tab.id = panel.getAttribute("aria-labelledby"); }
        }
        var selected = tab.classList.contains("active") ? "true" : "false";
        if (tab.getAttribute("aria-selected") !== selected) { tab.setAttribute("aria-selected", selected); }
        if (tab.tabIndex !== 0 && !tab.classList.contains("disabled")) { tab.tabIndex = 0; }
      });
    });
  }
  function fix() { fixDropdowns(document); fixTabs(document); }
  function start() {
    fix();
    new MutationObserver(function (changes) {
      for (var i = 0; i < changes.length; i++) {
        var change = changes[i];
        if (change.addedNodes.length || (change.type === "attributes" && change.target.getAttribute &&
                                         change.target.getAttribute("role") === "tab")) { fix(); return; }
      }
    }).observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ["class"] });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
