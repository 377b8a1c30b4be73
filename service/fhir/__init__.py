"""The clinic in FHIR R4: the export of an intake as a `collection` Bundle (Patient,
QuestionnaireResponse, RiskAssessment, one Flag per current red flag, the queue's Task and a
DocumentReference to the PDF summary, built with the fhir.resources R4B models), and what the
`/fhir` surface serves: the CapabilityStatement, the clinic's CodeSystems and extension
definition, a QuestionnaireResponse read in and checked, and OperationOutcomes.
"""

from service.fhir._bundle import intake_bundle, summary_pdf_path
from service.fhir._codes import TASK_PRIORITY, TASK_STATUS, Systems
from service.fhir._incoming import (
    QuestionnaireResponseError,
    ResponseAnswers,
    ResponseProblem,
    read_questionnaire_response,
)
from service.fhir._response import example_response, questionnaire_response
from service.fhir._server import (
    capability_statement,
    operation_outcome,
    receipt_outcome,
    search_set,
)
from service.fhir._terminology import code_systems, consent_version_definition

FHIR_JSON = "application/fhir+json"

__all__ = [
    "FHIR_JSON",
    "TASK_PRIORITY",
    "TASK_STATUS",
    "QuestionnaireResponseError",
    "ResponseAnswers",
    "ResponseProblem",
    "Systems",
    "capability_statement",
    "code_systems",
    "consent_version_definition",
    "example_response",
    "intake_bundle",
    "operation_outcome",
    "questionnaire_response",
    "read_questionnaire_response",
    "receipt_outcome",
    "search_set",
    "summary_pdf_path",
]
