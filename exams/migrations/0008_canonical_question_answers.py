import unicodedata

from django.db import migrations

# Before answers had one reading, the bank import stored "A C" as " AC" and "a,c" could
# pass the admin form as typed; grading compared letter sets and never matched them.
# Every stored answer becomes the canonical form the bank now stores: sorted unique
# letters, or T / F for a true-or-false question. Anything else in the row is left as
# it is. The rule is copied here as it stood (exams.models.questions.normalise_answer)
# so that later changes to it never change what this migration did.
TRUE_WORDS = frozenset({"T", "TRUE", "Y", "YES", "对", "正确", "√", "✓", "✔", "是"})
FALSE_WORDS = frozenset({"F", "FALSE", "N", "NO", "错", "错误", "×", "✗", "✘", "✕", "否"})
BATCH = 500


def canonical(answer, qtype):
    text = unicodedata.normalize("NFKC", answer or "").strip().upper()
    if qtype == "true_false":
        word = text
        for mark in "()[]【】":
            word = word.replace(mark, "")
        word = word.strip().rstrip("。.").strip()
        if word in TRUE_WORDS:
            return "T"
        if word in FALSE_WORDS:
            return "F"
    return "".join(sorted({char for char in text if "A" <= char <= "Z"}))


def canonicalise_answers(apps, schema_editor):
    Question = apps.get_model("exams", "Question")
    changed = []
    for question in Question.objects.only("id", "type", "answer").iterator(chunk_size=BATCH):
        answer = canonical(question.answer, question.type)
        if answer and answer != question.answer:
            question.answer = answer
            changed.append(question)
    Question.objects.bulk_update(changed, ["answer"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("exams", "0007_answer_fillfactor"),
    ]

    operations = [
        migrations.RunPython(canonicalise_answers, migrations.RunPython.noop, elidable=True),
    ]
