"""Example patients for the summary tests and the benchmark, as the API receives them."""

from __future__ import annotations

# A typical leakage consultation: two pages, one "soon" flag and four routine ones.
TYPICAL: dict[str, object] = {
    "full_name": "Arjun Menon",
    "birth_date": "1984-03-02",
    "email": "arjun@example.in",
    "main_concern": "semen_leakage",
    "concern_details": (
        "For about a year I notice leakage when I am aroused, and sometimes after passing urine."
        "\nIt worries me before my wedding in March."
    ),
    "symptom_duration": "gt_6_months",
    "leakage_when": ["arousal", "urination_or_straining"],
    "leakage_frequency": "weekly",
    "premature_ejaculation": True,
    "urination_pain": True,
    "pelvic_pain": True,
    "spine_injury": True,
    "takes_medicines": True,
    "medicines_list": "Sertraline 50 mg daily since June\nMultivitamin",
    "antidepressant": True,
    "symptoms_after_new_medicine": True,
    "self_harm_thoughts": False,
    "trying_to_conceive": True,
    "trying_months": 14,
    "consent_contact": True,
}
TYPICAL_FLAGS = [
    "Difficult or painful urination",
    "Semen leakage with premature ejaculation, erectile difficulty or painful ejaculation",
    "On an antidepressant, or symptoms after a new medicine: medication review",
    "Past spine, groin or prostate surgery, or injury to the back, spine or head",
    "Trying to conceive for 12 months or more",
]

# Filled in Malayalam: the patient's name and words in Malayalam script, two emergencies.
MALAYALAM_NAME = "രാജേഷ് കുമാർ"
MALAYALAM_WORDS = (
    "ഇന്നലെ രാത്രി മുതൽ മൂത്രം പോകുന്നില്ല, അടിവയറ്റിൽ കഠിനമായ വേദനയുണ്ട്.\nകാലുകൾക്ക് തളർച്ച തോന്നുന്നു. ക്ഷ ന്ത്ര ൻ്റെ"
)
MALAYALAM_EMERGENCY: dict[str, object] = {
    "full_name": MALAYALAM_NAME,
    "birth_date": "1970-01-20",
    "preferred_language": "ml",
    "main_concern": "other",
    "concern_details": MALAYALAM_WORDS,
    "symptom_duration": "lt_1_week",
    "unable_to_urinate": True,
    "saddle_numbness": True,
    "leg_weakness": True,
    "fever": True,
    "urination_pain": True,
}
MALAYALAM_FLAGS = [
    "Unable to pass urine with a full, painful bladder: acute urinary retention",
    (
        "New saddle numbness, loss of bladder or bowel control, or weakness of both legs: "
        "possible cauda equina compression"
    ),
    (
        "Fever with pelvic pain, painful urination or painful ejaculation: "
        "possible acute bacterial prostatitis"
    ),
    "Difficult or painful urination",
]
