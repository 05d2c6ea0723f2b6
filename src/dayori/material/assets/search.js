// Dayori: makes Material for MkDocs start our search worker (search-worker.js), which runs Material's own
// worker inside it, and holds back Material's request for the search index until the reader turns to
// search (focuses or types in the box, opens it on a phone): readers on slow links pay nothing for search
// they do not use. Must run before Material's bundle reads its configuration from #__config.
// On file:// Material emulates workers in an iframe; there the stock search is kept.
(function () {
  "use strict"
  var element = document.getElementById("__config")
  var script = document.currentScript
  if (!element || !script || !script.dataset.worker || location.protocol === "file:")
    return
  var config = JSON.parse(element.textContent)
  if (!config.search)
    return
  var base = new URL(config.base || ".", location.href)
  var index = new URL("search/search_index.json", base).href
  var worker = new URL(script.dataset.worker, document.baseURI)
  worker.searchParams.set("material", new URL(config.search, document.baseURI).href)
  worker.searchParams.set("index", index)
  config.search = worker.href
  element.textContent = JSON.stringify(config)

  var held = []
  var asked = false
  function ask() {
    if (asked)
      return
    asked = true
    held.splice(0).forEach(function (send) { send() })
  }

  // Material fetches the index with XMLHttpRequest as soon as its bundle runs.
  var open = XMLHttpRequest.prototype.open
  var send = XMLHttpRequest.prototype.send
  var isIndex = new WeakSet()
  XMLHttpRequest.prototype.open = function (method, url) {
    if (new URL(String(url), document.baseURI).href === index)
      isIndex.add(this)
    return open.apply(this, arguments)
  }
  XMLHttpRequest.prototype.send = function () {
    if (asked || !isIndex.has(this))
      return send.apply(this, arguments)
    var request = this
    var args = arguments
    held.push(function () { send.apply(request, args) })
  }

  function isSearch(target) {
    return target instanceof Element &&
      (target.matches("[data-md-component=search-query]") || (target.id === "__search" && target.checked))
  }
  document.addEventListener("focusin", function (event) { if (isSearch(event.target)) ask() })
  document.addEventListener("input", function (event) { if (isSearch(event.target)) ask() })
  document.addEventListener("change", function (event) { if (isSearch(event.target)) ask() })
  // A page opened from a search result (?h=) highlights the words with the index's settings; ?q= searches.
  var params = new URL(location.href).searchParams
  if (params.has("h") || params.has("q"))
    ask()
})()
