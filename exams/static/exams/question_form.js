// The question's edit form (exams.forms.QuestionForm): show the fields the chosen
// type uses. A panel marked data-question-types="single multiple" is hidden for the
// other types, unless it holds something or shows an error: validation names what
// must be cleared, and nothing it names is ever out of sight.
(function () {
  function holdsSomething(section) {
    if (section.querySelector(".w-field--error")) return true;
    return Array.from(section.querySelectorAll("input[type=text], textarea")).some(
      (field) => field.value.trim() !== "",
    );
  }

  function init() {
    const select = document.querySelector("form select[name='type']");
    const sections = document.querySelectorAll("[data-question-types]");
    if (!select || !sections.length) return;
    function update() {
      for (const section of sections) {
        const types = section.dataset.questionTypes.split(" ");
        const used = !select.value || types.includes(select.value);
        section.hidden = !used && !holdsSomething(section);
      }
    }
    select.addEventListener("change", update);
    update();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
