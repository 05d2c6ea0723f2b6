// Dayori: site behaviour that must run before Material's bundle. Loaded from a file (not inline) so that
// readers on slow links download it once.
/* Material reads every link[rel=alternate] as a translation of the site and fetches sitemap.xml beside it
   (feeds/sitemap.xml: a 404 on every page). Feed links get a second rel token before its bundle looks; the
   HTML that feed readers fetch keeps rel="alternate", and readers of the page still find the feeds. */
document.querySelectorAll('link[rel=alternate][type="application/rss+xml"], link[rel=alternate][type="application/atom+xml"], link[rel=alternate][type="application/feed+json"]')
  .forEach(function (link) { link.relList.add("feed") })
/* Below 76.25em Material's menu is a checkbox behind a label that the keyboard cannot reach. The label
   becomes a button (Enter or Space opens the menu and moves focus into it; Escape closes it). */
;(function () {
  var toggle = document.getElementById("__drawer")
  var button = document.querySelector('.md-header label[for="__drawer"]')
  if (!toggle || !button) return
  button.setAttribute("role", "button")
  button.setAttribute("aria-label", "メニュー")
  button.tabIndex = 0
  function show(open, focus) {
    toggle.checked = open
    toggle.dispatchEvent(new Event("change"))
    button.setAttribute("aria-expanded", String(open))
    if (focus) focus.focus()
  }
  button.setAttribute("aria-expanded", String(toggle.checked))
  toggle.addEventListener("change", function () { button.setAttribute("aria-expanded", String(toggle.checked)) })
  button.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" && event.key !== " ") return
    event.preventDefault()
    var open = !toggle.checked
    show(open, open ? document.querySelector(".md-sidebar--primary .md-nav__link[href]") : null)
  })
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && toggle.checked) show(false, button)
  })
})()
