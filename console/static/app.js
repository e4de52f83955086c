// munja console: the live CP949 byte counter of the send and template
// forms, template insertion, recipient count and small toggles. No
// framework; the server checks everything again.
(function () {
  "use strict";

  var SMS_MAX = 90;
  var LMS_MAX = 2000;
  var cp949 = null; // Uint8Array bitmap of the BMP, from /static/cp949.bin

  function fmt(s) {
    var args = Array.prototype.slice.call(arguments, 1);
    var i = 0;
    return s.replace(/%[sd]/g, function () { return String(args[i++]); });
  }

  function thousands(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  // carries reports whether CP949 can carry code point cp (>= 0x80).
  function carries(cp) {
    if (cp > 0xffff) return false; // emoji and every other astral character
    if (cp >= 0xac00 && cp <= 0xd7a3) return true; // Hangul syllables
    if (cp949) return (cp949[cp >> 3] & (1 << (cp & 7))) !== 0;
    // Before the table loads: refuse what is certainly not in CP949.
    return !(cp === 0xfe0f || cp === 0x200d || (cp >= 0xd800 && cp <= 0xdfff));
  }

  // count mirrors sms.CountBytes: ASCII 1 byte, other CP949 characters 2,
  // "\r\n" normalized to "\n" first. It returns {n, bad, pos}.
  function count(text) {
    text = text.replace(/\r\n?/g, "\n");
    var n = 0, pos = 0;
    for (var ch of text) {
      pos++;
      var cp = ch.codePointAt(0);
      if (cp < 0x80) { n += 1; continue; }
      if (!carries(cp)) return { n: n, bad: ch, pos: pos };
      n += 2;
    }
    return { n: n, bad: null, pos: 0 };
  }

  function setupCounter(form) {
    var text = form.querySelector("#text");
    var counter = form.querySelector("#counter") || document.getElementById("counter");
    var kind = form.querySelector("#kind") || document.getElementById("kind");
    var charErr = form.querySelector("#char-error") || document.getElementById("char-error");
    var titleRow = form.querySelector("#title-row");
    var title = form.querySelector("#title");
    if (!text || !counter) return null;

    function update() {
      var r = count(text.value);
      var lms = r.n > SMS_MAX || (title && title.value.trim() !== "");
      if (r.bad) {
        charErr.textContent = fmt(form.dataset.charError || "%s %d", r.bad, r.pos);
        charErr.hidden = false;
      } else if (charErr) {
        charErr.hidden = true;
      }
      if (!lms) {
        counter.textContent = r.n + " / " + SMS_MAX + " byte";
      } else {
        counter.textContent = thousands(r.n) + " / " + thousands(LMS_MAX) + " byte · " + (form.dataset.lms || "LMS");
      }
      counter.classList.toggle("over", r.n > LMS_MAX);
      kind.textContent = lms ? "LMS" : "SMS";
      kind.classList.toggle("lms", lms);
      if (titleRow) titleRow.hidden = !lms;
      form.dispatchEvent(new CustomEvent("munja:count", { detail: { lms: lms } }));
    }
    text.addEventListener("input", update);
    if (title) title.addEventListener("input", update);

    var url = form.dataset.cp949;
    if (url && !cp949) {
      fetch(url, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.arrayBuffer() : null; })
        .then(function (b) { if (b && b.byteLength === 8192) { cp949 = new Uint8Array(b); update(); } })
        .catch(function () { /* keep the heuristic; the server decides */ });
    }
    update();
    return update;
  }

  function setupRecipients(form, update) {
    var summary = document.getElementById("recipient-summary");
    var to = form.querySelector("#to");
    if (!summary || !to) return;
    function recount() {
      var typed = to.value.split(/[,;\n]+/).filter(function (s) { return /\d{3}/.test(s); }).length;
      var picked = form.querySelectorAll("input[name=contact]:checked").length;
      var groups = 0;
      form.querySelectorAll("input[name=group]:checked").forEach(function (g) {
        groups += parseInt(g.dataset.members || "0", 10);
      });
      var n = typed + picked + groups;
      var kind = document.getElementById("kind").textContent;
      summary.textContent = fmt(form.dataset.summary || "%d / %d / %s", n, n, kind);
    }
    form.addEventListener("input", recount);
    form.addEventListener("change", recount);
    form.addEventListener("munja:count", recount);
    recount();
  }

  function setupTemplatePick(form, update) {
    var pick = document.getElementById("template-pick");
    var text = form.querySelector("#text");
    var title = form.querySelector("#title");
    if (!pick || !text) return;
    pick.addEventListener("change", function () {
      var o = pick.options[pick.selectedIndex];
      if (!o || !o.value) return;
      var start = text.selectionStart, end = text.selectionEnd;
      if (text.value === "" || start === undefined) {
        text.value = o.dataset.text;
      } else {
        text.value = text.value.slice(0, start) + o.dataset.text + text.value.slice(end);
      }
      if (title && o.dataset.title && !title.value) title.value = o.dataset.title;
      // Kakao Alimtalk is offered for a template a provider has an
      // approved Alimtalk template for (data-kakao).
      var name = document.getElementById("template-name");
      var row = document.getElementById("kakao-row");
      var kakao = document.getElementById("kakao");
      if (name) name.value = o.dataset.name || "";
      if (row) row.hidden = !o.dataset.kakao;
      if (kakao) kakao.checked = !!o.dataset.kakao;
      pick.selectedIndex = 0;
      update();
      text.focus();
    });
  }

  function setupToggles() {
    var reserve = document.getElementById("reserve");
    var row = document.getElementById("reserve-row");
    if (reserve && row) {
      reserve.addEventListener("change", function () { row.hidden = !reserve.checked; });
    }
    // Silence forms: the end date and time only matter for "until…".
    document.querySelectorAll("form.silence").forEach(function (f) {
      var sel = f.querySelector("select[name=for]");
      var inputs = f.querySelectorAll("input[type=date], input[type=time]");
      if (!sel) return;
      function sync() { inputs.forEach(function (i) { i.hidden = sel.value !== ""; }); }
      sel.addEventListener("change", sync);
      sync();
    });
    var filter = document.getElementById("contact-filter");
    var list = document.getElementById("picklist");
    if (filter && list) {
      filter.addEventListener("input", function () {
        var q = filter.value.trim().toLowerCase().replace(/-/g, "");
        list.querySelectorAll("label").forEach(function (l) {
          var t = l.textContent.toLowerCase().replace(/-/g, "");
          l.hidden = q !== "" && t.indexOf(q) < 0;
        });
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    ["send-form", "template-form"].forEach(function (id) {
      var form = document.getElementById(id);
      if (!form) return;
      var update = setupCounter(form);
      if (!update) return;
      if (id === "send-form") {
        setupRecipients(form, update);
        setupTemplatePick(form, update);
      }
    });
    setupToggles();
  });
})();
