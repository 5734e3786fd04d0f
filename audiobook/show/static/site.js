/* audiobook episode page: chapters, transcript cues and their words seek the
   player; the cue being spoken is highlighted (aria-current) and kept in view,
   and within it the word being spoken (class "spoken").
   A classic deferred script, not a module, so it also runs from file://. */
(function () {
  "use strict";

  var audio = document.getElementById("player");
  if (!audio) return;

  var cues = Array.prototype.slice.call(document.querySelectorAll(".cue[data-start]"));
  var words = Array.prototype.slice.call(document.querySelectorAll(".word[data-start]"));
  var chapters = Array.prototype.slice.call(document.querySelectorAll(".chapter[data-start]"));
  var follow = document.getElementById("follow");
  var nowChapter = document.getElementById("now-chapter");
  var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  function starts(items) {
    return items.map(function (el) { return parseFloat(el.getAttribute("data-start")); });
  }
  var cueStarts = starts(cues);
  var wordStarts = starts(words);
  var chapterStarts = starts(chapters);

  /* Index of the last item starting at or before t (-1 before the first). */
  function locate(list, t) {
    var lo = 0, hi = list.length - 1, found = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (list[mid] <= t + 0.001) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found;
  }

  function seek(seconds, play) {
    audio.currentTime = seconds;
    if (play) {
      var playing = audio.play();
      if (playing && playing.catch) playing.catch(function () { /* autoplay refused: stay paused */ });
    }
    update(true);
  }

  function outOfView(el) {
    var box = el.getBoundingClientRect();
    var player = document.querySelector(".player");
    var top = player ? player.getBoundingClientRect().bottom : 0;
    return box.top < top || box.bottom > (window.innerHeight || document.documentElement.clientHeight);
  }

  var currentCue = null, currentChapter = null, currentWord = null;

  function mark(el, previous) {
    if (previous === el) return false;
    if (previous) previous.removeAttribute("aria-current");
    if (el) el.setAttribute("aria-current", "true");
    return true;
  }

  function update(fromSeek) {
    var t = audio.currentTime;
    var cue = cues[locate(cueStarts, t)] || null;
    /* Past a cue's end (in the pause after it) it stays lit until the next starts. */
    var changed = mark(cue, currentCue);
    currentCue = cue;
    /* Follow the voice while it plays, and after any seek; leave a paused reader alone. */
    if (cue && follow && follow.checked && (fromSeek || (changed && !audio.paused)) && outOfView(cue)) {
      cue.scrollIntoView({ block: "center", behavior: reduceMotion ? "auto" : "smooth" });
    }
    /* The word lights only inside its own cue: in the pause after a sentence none is spoken. */
    var word = words[locate(wordStarts, t)] || null;
    if (word && (!cue || !cue.contains(word) || t > parseFloat(cue.getAttribute("data-end")))) word = null;
    if (word !== currentWord) {
      if (currentWord) currentWord.classList.remove("spoken");
      if (word) word.classList.add("spoken");
      currentWord = word;
    }
    var chapter = chapters[locate(chapterStarts, t)] || null;
    if (mark(chapter, currentChapter)) {
      currentChapter = chapter;
      if (chapter && nowChapter) {
        nowChapter.textContent = chapter.querySelector(".chapter-title").textContent;
      }
    }
  }

  chapters.forEach(function (button) {
    button.addEventListener("click", function () {
      seek(parseFloat(button.getAttribute("data-start")), true);
    });
  });

  cues.forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      /* Keep the sentence's address in the URL (to share it) without jumping the page. */
      if (window.history && history.replaceState) {
        try { history.replaceState(null, "", "#" + link.id); } catch (e) { /* file:// in some browsers */ }
      }
      var word = event.target.closest && event.target.closest(".word[data-start]");
      seek(parseFloat((word || link).getAttribute("data-start")), true);
    });
  });

  audio.addEventListener("timeupdate", function () { update(false); });
  audio.addEventListener("seeked", function () { update(true); });

  /* A link to a sentence (#cue-12) or a media fragment (#t=90) starts there. */
  function fromHash() {
    var hash = decodeURIComponent(window.location.hash.slice(1));
    var time = /^t=(\d+(?:\.\d+)?)$/.exec(hash);
    var target = hash && document.getElementById(hash);
    if (time) {
      seek(parseFloat(time[1]), false);
    } else if (target && target.classList.contains("cue")) {
      seek(parseFloat(target.getAttribute("data-start")), false);
    }
  }
  fromHash();
  window.addEventListener("hashchange", fromHash);
})();
