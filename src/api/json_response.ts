/**
 * An OpenAPI response whose body is JSON of one zod schema: the one shape
 * every route's answers share (`createRoute`'s `responses`), said once.
 */

/** A response whose body is JSON of `S`. */
export interface JsonResponse<S> {
  description: string;
  content: { "application/json": { schema: S } };
}

/** The response `description`, its body JSON of `schema`. */
export function jsonResponse<S>(description: string, schema: S): JsonResponse<S> {
  return { description, content: { "application/json": { schema } } };
}
