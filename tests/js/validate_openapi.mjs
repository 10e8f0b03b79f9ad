// Validates an OpenAPI document fetched from a running FORESIGHT against the OpenAPI 3 schema
// (swagger-parser also resolves every $ref). Usage: node validate_openapi.mjs <url>
import SwaggerParser from '@apidevtools/swagger-parser';

const url = process.argv[2];
const response = await fetch(url);
if (!response.ok) {
  console.error(`GET ${url}: ${response.status}`);
  process.exit(1);
}
const doc = await response.json();
try {
  const api = await SwaggerParser.validate(doc);
  console.log(`valid: ${api.info.title}, ${Object.keys(api.paths).length} paths`);
} catch (e) {
  console.error(`invalid: ${e.message}`);
  process.exit(1);
}
