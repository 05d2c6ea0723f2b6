// Dayori: Material for MkDocs' search worker, unchanged, with Japanese query words rewritten on the way in
// and results made readable on the way out. Why: see src/dayori/search.py, which adds to the index the
// bigram terms that the queries below are turned into. The two files must encode the same way.
"use strict"

var QUERY = 2                       // Material's SearchMessageType.QUERY
var RESULT = 3                      // Material's SearchMessageType.RESULT
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

var material = new URL(new URL(location.href).searchParams.get("material") || "", location.href)
if (material.origin !== location.origin)
  throw new Error("Dayori search: Material's worker must come from this site, not " + material.origin)

// Queries are answered in order, so each result belongs to the oldest query not yet answered.
var pending = []

// Registered before Material's listener, so Material reads the rewritten query from the same event.
addEventListener("message", function (event) {
  var message = event.data
  if (message && message.type === QUERY && typeof message.data === "string") {
    var rewritten = rewrite(message.data)
    pending.push(rewritten.words)
    message.data = rewritten.query
  }
})

var send = self.postMessage.bind(self)
self.postMessage = function (message) {
  if (message && message.type === RESULT)
    restore(message.data, pending.shift() || [])
  send(message)
}

importScripts(material.href)
