// Regard's dashboard: the only script besides htmx.  When htmx swaps a result into the page, move the keyboard
// focus to the result's heading, so keyboard and screen-reader users land on what changed.  The swapped region
// is looked up again by its id: an outerHTML swap replaces the element the event names.
document.addEventListener("htmx:afterSettle", function (event) {
  var target = event.detail.target;
  var region = target && target.id ? document.getElementById(target.id) : null;
  if (!region) {
    return;
  }
  var heading = region.matches("[data-focus]") ? region : region.querySelector("[data-focus]");
  if (heading) {
    heading.focus();
  }
});
