// Dayori: Material for MkDocs' search worker, unchanged, with Japanese query words rewritten on the way in
// and results made readable on the way out. Why: see src/dayori/material/search.py, which adds to the index
// the bigram terms that the queries below are turned into. The two files must encode the same way.
// The index Material hands over lists shards instead of documents (see split_index in search.py): the first
// query waits for the shards marked "first", and is answered again once the others are in.
"use strict"

var SETUP = 0                       // Material's SearchMessageType.SETUP
var READY = 1                       // Material's SearchMessageType.READY
var QUERY = 2                       // Material's SearchMessageType.QUERY
var RESULT = 3                      // Material's SearchMessageType.RESULT
var SHARDS = "dayori_shards"        // search.py's SHARDS_KEY
var PREFIX = "jx"
var END = "0"                       // keeps lunr's English stemmer off the terms (see search.py)
var FIELD_PREFIX = "ja_"
// Kana, kanji and the iteration/closing marks; the same ranges as _JAPANESE in search.py.
var JAPANESE = /[\u3005-\u3007\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fc-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u{20000}-\u{3134f}]+/gu

function termPrefix(characters) {
  return PREFIX + Array.from(characters)
    .map(function (c) { return c.codePointAt(0).toString(36).padStart(4, "0") })
    .join("")
}

// One run becomes its bigrams, all required; a single character is a prefix of the indexed terms.
function runTerms(run) {
  var chars = Array.from(run)
  if (chars.length === 1)
    return ["+" + termPrefix(run) + "*"]
  return chars.slice(1).map(function (c, i) { return "+" + termPrefix(chars[i] + c) + END })
}

// Words without Japanese, and excluded words (-word), are left to Material as typed.
function rewrite(query) {
  var words = []
  var parts = query.split(/\s+/).map(function (word) {
    var normalized = word.normalize("NFKC")
    var runs = normalized.match(JAPANESE)
    if (!runs || word.charAt(0) === "-")
      return word
    words.push.apply(words, runs)
    var rest = normalized.replace(JAPANESE, " ").replace(/["+]/g, " ").trim()
    return [rest].concat(runs.flatMap(runTerms)).filter(Boolean).join(" ")
  })
  return { query: parts.join(" "), words: words }
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
}

// Marks the typed words in a field's HTML, outside tags, as Material marks the terms it found itself.
function mark(html, words) {
  if (typeof html !== "string" || !words.length)
    return html
  var found = new RegExp(words
    .slice()
    .sort(function (a, b) { return b.length - a.length })
    .map(escapeRegExp)
    .join("|"), "g")
  return html.replace(/<[^>]*>|[^<]+/g, function (part) {
    return part.charAt(0) === "<" ? part : part.replace(found, "<mark>$&</mark>")
  })
}

// Like Material's own highlighting, a long text shows only its first two top-level blocks with a match.
function excerpt(html) {
  if (typeof html !== "string" || html.indexOf("<mark>") === -1)
    return html
  var blocks = []
  var current = ""
  var depth = 0
  ;(html.match(/<[^>]*>|[^<]+/g) || []).forEach(function (part) {
    var tag = part.charAt(0) === "<" && !/^<\/?mark>$/.test(part)
    var closing = tag && part.charAt(1) === "/"
    if (tag && !closing && depth === 0 && current) {
      blocks.push(current)
      current = ""
    }
    current += part
    if (tag)
      depth += closing ? -1 : 1
    if (closing && depth <= 0) {
      blocks.push(current)
      current = ""
      depth = 0
    }
  })
  blocks.push(current)
  return blocks
    .filter(function (block) { return block.indexOf("<mark>") !== -1 })
    .slice(0, 2)
    .join("")
}

// The bigram fields and terms are for the index only: results show the typed words instead, which also
// become the ?h= highlight of the page a reader opens.
function restore(result, words) {
  result.items.forEach(function (group) {
    group.forEach(function (doc) {
      Object.keys(doc).forEach(function (key) {
        if (key.indexOf(FIELD_PREFIX) === 0)
          delete doc[key]
      })
      var terms = {}
      var matched = Object.keys(doc.terms || {})
      matched.forEach(function (term) {
        if (term.indexOf(PREFIX) !== 0)
          terms[term] = doc.terms[term]
      })
      if (matched.length)
        words.forEach(function (word) { terms[word] = true })
      doc.terms = terms
      doc.title = mark(doc.title, words)
      doc.text = excerpt(mark(doc.text, words))
    })
  })
  if (result.suggest)
    result.suggest = result.suggest.filter(function (term) { return term.indexOf(PREFIX) !== 0 })
  return result
}

function sameSite(name, fallback) {
  var url = new URL(new URL(location.href).searchParams.get(name) || fallback, location.href)
  if (url.origin !== location.origin)
    throw new Error("Dayori search: " + name + " must come from this site, not " + url.origin)
  return url
}
var material = sameSite("material", "")
var index = sameSite("index", "../../../search/search_index.json")

// Material imports its language scripts at every setup; each is fetched and run once.
var imported = {}
var importOnce = self.importScripts.bind(self)
self.importScripts = function () {
  var urls = Array.prototype.map.call(arguments, function (url) { return new URL(url, location.href).href })
    .filter(function (url) { return !imported[url] })
  urls.forEach(function (url) { imported[url] = true })
  if (urls.length)
    importOnce.apply(self, urls)
}

// Material's worker is loaded with the first setup, when the reader turns to search.
var forwarding = false
function forward(message) {
  if (!imported[material.href])
    self.importScripts(material.href)
  forwarding = true
  try {
    dispatchEvent(new MessageEvent("message", { data: message }))
  } finally {
    forwarding = false
  }
}

var setupData = null
var readyWaiters = []
var ready = false
var waiting = []                    // queries sent before the first shards were in
var lastQuery = null
// Queries are answered in order, so each result belongs to the oldest query not yet answered.
var pending = []

function setup(docs) {
  return new Promise(function (resolve) {
    readyWaiters.push(resolve)
    forward({ type: SETUP, data: { config: setupData.config, docs: docs, options: setupData.options } })
  })
}

function ask(query) {
  var rewritten = rewrite(query)
  pending.push(rewritten.words)
  forward({ type: QUERY, data: rewritten.query })
}

function load(shards) {
  return Promise.all(shards.map(function (shard) {
    return fetch(new URL(shard.url, index))
      .then(function (response) {
        if (!response.ok)
          throw new Error(response.status + " " + response.statusText)
        return response.json()
      })
      .catch(function (error) {
        console.warn("Dayori search: " + shard.url + " could not be loaded", error)
        return []
      })
  })).then(function (lists) { return [].concat.apply([], lists) })
}

function announce() {
  ready = true
  send({ type: READY })
  waiting.splice(0).forEach(ask)
}

function start(data) {
  setupData = data
  var shards = (data.config && data.config[SHARDS]) || []
  var first = shards.filter(function (shard) { return shard.first })
  var rest = shards.filter(function (shard) { return !shard.first })
  var docs = data.docs || []
  load(first)
    .then(function (found) {
      docs = docs.concat(found)
      return setup(docs)
    })
    .then(function () {
      announce()
      if (!rest.length)
        return null
      return load(rest).then(function (found) {
        return setup(docs.concat(found)).then(function () {
          if (lastQuery !== null)
            ask(lastQuery)
        })
      })
    })
}

// Registered before Material's listener, which sees only the messages forwarded above.
addEventListener("message", function (event) {
  if (forwarding)
    return
  event.stopImmediatePropagation()
  var message = event.data
  if (!message)
    return
  if (message.type === SETUP && setupData === null) {
    start(message.data)
  } else if (message.type === QUERY && typeof message.data === "string") {
    lastQuery = message.data
    if (ready)
      ask(message.data)
    else
      waiting.push(message.data)
  }
})

var send = self.postMessage.bind(self)
self.postMessage = function (message) {
  if (message && message.type === READY) {
    var resolve = readyWaiters.shift()
    if (resolve)
      resolve()
    return
  }
  if (message && message.type === RESULT)
    restore(message.data, pending.shift() || [])
  send(message)
}
