"""The FHIR R4 export of an intake: a `collection` Bundle built from the stored intake.

Patient, QuestionnaireResponse, RiskAssessment, one Flag per current red flag, the queue's Task
and a DocumentReference to the PDF summary. Built with the fhir.resources R4B models.
"""

from service.fhir._bundle import intake_bundle, questionnaire_canonical, summary_pdf_path
from service.fhir._codes import TASK_PRIORITY, TASK_STATUS, Systems
from service.fhir._server import capability_statement, operation_outcome, search_set

FHIR_JSON = "application/fhir+json"

__all__ = [
    "FHIR_JSON",
    "TASK_PRIORITY",
    "TASK_STATUS",
    "Systems",
    "capability_statement",
    "intake_bundle",
    "operation_outcome",
    "questionnaire_canonical",
    "search_set",
    "summary_pdf_path",
]
