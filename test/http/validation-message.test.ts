import t from 'tap';
import { validationMessage } from '../../src/http/validation-message.js';

const err = (keyword: string, instancePath: string, params: Record<string, unknown>, message?: string) => ({
  keyword,
  instancePath,
  schemaPath: '#',
  params,
  ...(message === undefined ? {} : { message }),
});

t.test('one sentence naming the field', async (t) => {
  t.equal(
    validationMessage('body', [err('additionalProperties', '', { additionalProperty: 'nmae' })]),
    "body has an unknown field 'nmae'",
  );
  t.equal(
    validationMessage('body', [err('required', '', { missingProperty: 'owner' })]),
    "body must have the field 'owner'",
  );
  t.equal(
    validationMessage('body', [err('enum', '/mode', { allowedValues: ['exclusive', 'shared'] })]),
    'body/mode must be one of: exclusive, shared',
  );
  t.equal(
    validationMessage('body', [err('type', '/id', { type: ['string', 'array'] })]),
    'body/id must be of type string or array',
  );
  t.equal(
    validationMessage('body', [err('maximum', '/ttl_ms', { limit: 5 }, 'must be <= 5')]),
    'body/ttl_ms must be <= 5',
  );
  t.equal(validationMessage('querystring', []), 'querystring is not valid');
});
