// A widget output in the built book is a <script type="application/vnd.jupyter.widget-view+json">
// tag: the ipywidgets HTML manager (loaded from a CDN, see myst-nb's nb_ipywidgets_js) draws it
// from the state saved in the page, inserting a div.widget-subarea just before the tag. When the
// manager cannot load (offline, CDN blocked), nothing would show; this script puts a short note
// there instead, so the reader is not left with an unexplained gap, and removes the note again
// if the manager draws the widget later. tests/browser/test_pages.py checks it.
(function () {
  var VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]';
  function drawn(tag) {
    var prev = tag.previousElementSibling;
    return !!prev && prev.classList.contains("widget-subarea");
  }
  function addNotes() {
    document.querySelectorAll(VIEW).forEach(function (tag) {
      if (drawn(tag) || tag.fallbackNote) return;
      var note = document.createElement("div");
      note.className = "widget-fallback admonition note";
      note.innerHTML =
        '<p class="admonition-title">Interactive widget</p>' +
        "<p>This widget's controls could not be loaded in your browser (they come from a CDN). " +
        "Run the notebook (Binder, Colab or locally: see the buttons at the top) to use it; " +
        "the static view on this page shows the same effect.</p>";
      tag.parentElement.insertBefore(note, tag);
      tag.fallbackNote = note;
    });
  }
  function pruneNotes() {
    document.querySelectorAll(VIEW).forEach(function (tag) {
      if (tag.fallbackNote && drawn(tag)) {
        tag.fallbackNote.remove();
        tag.fallbackNote = null;
      }
    });
  }
  window.addEventListener("load", function () {
    setTimeout(addNotes, 2000);
    var left = 15;
    var timer = setInterval(function () { pruneNotes(); if (--left === 0) clearInterval(timer); }, 2000);
  });
})();
