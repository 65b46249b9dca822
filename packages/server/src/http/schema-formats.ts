import { FormatRegistry } from '@sinclair/typebox';

/**
 * The string formats the API's schemas use, taught to TypeBox's checker
 * (it knows none by itself). Imported by whatever compiles a check.
 */
const FORMATS: Record<string, (value: string) => boolean> = {
  'date-time': (value) =>
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value) && !Number.isNaN(Date.parse(value)),
  binary: () => true,
};

for (const [name, check] of Object.entries(FORMATS)) if (!FormatRegistry.Has(name)) FormatRegistry.Set(name, check);
