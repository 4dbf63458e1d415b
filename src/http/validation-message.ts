import type { FastifySchemaValidationError } from 'fastify';

/**
 * One clear sentence for a request that failed its JSON Schema: `body has an unknown field
 * 'nmae'`, `body/mode must be one of: exclusive, shared`; ajv's own message otherwise. Pure.
 */
export function validationMessage(context: string, errors: readonly FastifySchemaValidationError[]): string {
  const first = errors[0];
  if (first === undefined) return `${context} is not valid`;
  const where = `${context}${first.instancePath}`;
  const p = first.params;
  switch (first.keyword) {
    case 'additionalProperties':
      return `${where} has an unknown field '${String(p['additionalProperty'])}'`;
    case 'required':
      return `${where} must have the field '${String(p['missingProperty'])}'`;
    case 'enum':
      return `${where} must be one of: ${(p['allowedValues'] as unknown[]).join(', ')}`;
    case 'type':
      return `${where} must be of type ${Array.isArray(p['type']) ? p['type'].join(' or ') : String(p['type'])}`;
    default:
      return `${where} ${first.message ?? 'is not valid'}`;
  }
}
