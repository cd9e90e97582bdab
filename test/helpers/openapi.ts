import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { FormatsPlugin } from 'ajv-formats';

// ajv-formats is CommonJS with `exports.default`: under NodeNext the default import is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? addFormatsModule) as FormatsPlugin;

type Json = Record<string, unknown>;

const DOC_ID = 'openapi.json';
const pointer = (...parts: string[]) => parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

/**
 * Checks answers against an OpenAPI document: the status is documented for
 * the operation, the body validates (ajv, JSON Schema 2020-12, the
 * document's own dialect) against the schema of its media type, and the
 * headers the document marks required are there.
 */
export function openApiConformance(doc: Json) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(doc, DOC_ID);
  const paths = doc.paths as Record<string, Record<string, Json>>;
  const templates = Object.keys(paths).map((template) => ({
    template,
    pattern: new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`),
  }));

  /** Follows a `$ref` inside the document; returns the object and its pointer. */
  const resolve = (value: Json, at: string): { value: Json; at: string } => {
    const target = value.$ref;
    if (typeof target !== 'string') return { value, at };
    const parts = target.replace(/^#\//, '').split('/').map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
    let node: unknown = doc;
    for (const part of parts) node = (node as Json)[part];
    return { value: node as Json, at: target.replace(/^#/, '') };
  };

  return {
    /** The path template documenting a request path, if any. */
    templateOf: (path: string) => templates.find((t) => t.pattern.test(path))?.template,
    /** What is wrong with an answer, per the document ([] when it conforms). */
    check(method: string, path: string, status: number, headers: Headers, text: string): string[] {
      const template = templates.find((t) => t.pattern.test(path))?.template;
      if (template === undefined) return [`${path}: no documented path`];
      const operation = paths[template]?.[method.toLowerCase()];
      if (operation === undefined) return [`${method} ${template}: not documented`];
      const responses = operation.responses as Record<string, Json>;
      const raw = responses[String(status)];
      if (raw === undefined) return [`${method} ${template}: status ${status} not documented`];
      const { value: response, at } = resolve(raw, `/${pointer('paths', template, method.toLowerCase(), 'responses', String(status))}`);
      const problems: string[] = [];
      for (const [name, spec] of Object.entries((response.headers ?? {}) as Record<string, Json>)) {
        const { value: header } = resolve(spec, '');
        if (header.required === true && !headers.has(name)) problems.push(`${status}: header ${name} missing`);
      }
      const content = (response.content ?? {}) as Record<string, Json>;
      const type = headers.get('content-type')?.split(';', 1)[0]?.trim();
      if (Object.keys(content).length === 0) {
        if (text !== '') problems.push(`${status}: a body where none is documented`);
        return problems;
      }
      if (type === undefined || content[type] === undefined) return [...problems, `${status}: content type ${String(type)} not documented`];
      const validate = ajv.getSchema(`${DOC_ID}#${at}/${pointer('content', type, 'schema')}`);
      if (!validate) return [...problems, `${status}: no schema for ${type}`];
      if (!validate(JSON.parse(text))) problems.push(`${status}: ${ajv.errorsText(validate.errors)}`);
      return problems;
    },
  };
}
