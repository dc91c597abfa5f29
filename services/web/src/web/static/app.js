// Small behaviours the pages need without inline scripts (the CSP allows only this file).
document.addEventListener("change", function (event) {
  var box = event.target;
  if (box.matches && box.matches("input[data-select-all]")) {
    var scope = document.getElementById(box.getAttribute("data-select-all"));
    if (scope) {
      scope.querySelectorAll("input[type=checkbox][name]").forEach(function (c) { c.checked = box.checked; });
    }
  }
});
