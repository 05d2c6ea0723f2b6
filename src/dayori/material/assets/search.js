// Dayori: makes Material for MkDocs start our search worker (search-worker.js), which runs Material's own
// worker inside it. Must run before Material's bundle reads its configuration from #__config.
// On file:// Material emulates workers in an iframe; there the stock search is kept.
(function () {
  "use strict"
  var element = document.getElementById("__config")
  var script = document.currentScript
  if (!element || !script || location.protocol === "file:")
    return
  var config = JSON.parse(element.textContent)
  if (!config.search)
    return
  var worker = new URL("search-worker.js", script.src)
  worker.searchParams.set("material", new URL(config.search, document.baseURI).href)
  config.search = worker.href
  element.textContent = JSON.stringify(config)
})()
