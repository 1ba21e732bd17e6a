/**
 * The comm's narrowing parsers: whatever the kernel (or anything speaking on
 * the comm) sends, they answer a message we understand or null, and never
 * throw. A message they let through is written verbatim into the notebook's
 * metadata, so a non-object payload must never pass.
 */
import { parseEnvironmentMessage, parseKernelMessage } from '../comm';

const HOSTILE: unknown[] = [
  undefined,
  null,
  0,
  42,
  NaN,
  '',
  'cell_recorded',
  '{"type":"cell_recorded"}',
  true,
  [],
  [{ type: 'cell_recorded' }],
  {},
  { type: null },
  { type: 'unknown' },
  { type: 'hello', version: '1', schema_version: 1 },
  Object.create(null),
  () => ({ type: 'environment', digest: 'x' })
];

describe('parseKernelMessage', () => {
  const cellRecorded = {
    type: 'cell_recorded',
    cell_id: 'abc',
    cell_metadata: { status: 'ok' },
    notebook_metadata: { master_seed: 1 }
  };

  it('accepts a well-formed cell_recorded message and returns it unchanged', () => {
    expect(parseKernelMessage(cellRecorded)).toBe(cellRecorded);
  });

  it('accepts a cell_recorded message whose cell has no id (null)', () => {
    const message = { ...cellRecorded, cell_id: null };
    expect(parseKernelMessage(message)).toBe(message);
  });

  it('accepts a notebook_metadata message', () => {
    const message = { type: 'notebook_metadata', notebook_metadata: {} };
    expect(parseKernelMessage(message)).toBe(message);
  });

  it.each(HOSTILE.map(value => [value]))('answers null for %p', value => {
    expect(() => parseKernelMessage(value)).not.toThrow();
    expect(parseKernelMessage(value)).toBeNull();
  });

  it.each([
    ['a numeric cell id', { cell_id: 7 }],
    ['a missing cell id', { cell_id: undefined }],
    ['array cell metadata', { cell_metadata: [1, 2] }],
    ['string cell metadata', { cell_metadata: '{"status":"ok"}' }],
    ['null cell metadata', { cell_metadata: null }],
    ['null notebook metadata', { notebook_metadata: null }],
    ['array notebook metadata', { notebook_metadata: [] }],
    ['a number as notebook metadata', { notebook_metadata: 3 }]
  ])('rejects cell_recorded with %s', (_what, patch) => {
    expect(parseKernelMessage({ ...cellRecorded, ...patch })).toBeNull();
  });

  it.each([[null], [[]], ['x'], [1], [undefined]])(
    'rejects notebook_metadata whose metadata is %p',
    value => {
      expect(
        parseKernelMessage({
          type: 'notebook_metadata',
          notebook_metadata: value
        })
      ).toBeNull();
    }
  );

  it('does not take an environment answer for a metadata message', () => {
    expect(
      parseKernelMessage({ type: 'environment', digest: 'sha256:00' })
    ).toBeNull();
  });
});

describe('parseEnvironmentMessage', () => {
  it('accepts an environment answer with a string digest', () => {
    const message = { type: 'environment', digest: 'sha256:abc' };
    expect(parseEnvironmentMessage(message)).toBe(message);
  });

  it.each(HOSTILE.map(value => [value]))('answers null for %p', value => {
    expect(() => parseEnvironmentMessage(value)).not.toThrow();
    expect(parseEnvironmentMessage(value)).toBeNull();
  });

  it.each([[null], [undefined], [12], [{ sha256: 'x' }], [['sha256:x']]])(
    'rejects a digest that is not a string: %p',
    digest => {
      expect(
        parseEnvironmentMessage({ type: 'environment', digest })
      ).toBeNull();
    }
  );

  it('does not take a metadata message for an environment answer', () => {
    expect(
      parseEnvironmentMessage({
        type: 'notebook_metadata',
        notebook_metadata: {},
        digest: 'x'
      })
    ).toBeNull();
  });
});
