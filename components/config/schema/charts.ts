// `charts` and `images`: per-stack overrides of the pinned chart sources/versions and third-party
// images (components/versions.ts).
import { z } from "zod";
import { CHART_SOURCE_FORMS, parseChartSource } from "../../chartSource";
import { type ChartGroup, type ChartPin, CHARTS, type ImageKey, imageReference, IMAGES } from "../../versions";
import { isExactSemver, pattern } from "./common";

const chartOverrideSchema = z.strictObject({
    /** Mirror or air-gapped copy of the chart (same chart names below it). */
    source: z
        .string({ error: `must be ${CHART_SOURCE_FORMS}` })
        .refine((s) => parseChartSource(s) !== undefined, { error: `must be ${CHART_SOURCE_FORMS}` })
        .optional(),
    version: z
        .string({ error: 'must be a pinned chart version like "1.2.3"' })
        .refine((v) => isExactSemver(v.replace(/^v/, "")), { error: 'must be a pinned chart version like "1.2.3" (SemVer, "v" allowed)' })
        .optional(),
});

/** Per-stack overrides of the pinned chart sources and versions (components/versions.ts). */
export const chartsSchema = z
    .strictObject(
        Object.fromEntries(Object.keys(CHARTS).map((g) => [g, chartOverrideSchema.optional()])) as Record<
            ChartGroup,
            z.ZodOptional<typeof chartOverrideSchema>
        >,
    )
    .prefault({})
    .transform(
        (overrides) =>
            Object.fromEntries((Object.keys(CHARTS) as ChartGroup[]).map((g) => [g, { ...CHARTS[g], ...overrides[g] }])) as Record<
                ChartGroup,
                ChartPin
            >,
    );
export type ChartPins = z.infer<typeof chartsSchema>;

const IMAGE_REFERENCE =
    /^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}@sha256:[a-f0-9]{64}$/;

/** Per-stack overrides of the pinned third-party images, e.g. a mirror: full reference with tag and digest. */
export const imagesSchema = z
    .strictObject(
        Object.fromEntries(
            Object.keys(IMAGES).map((k) => [
                k,
                pattern(
                    IMAGE_REFERENCE,
                    'a full image reference with tag and digest like "registry.example.com/mirror/postgres:<tag>@sha256:<64 hex>"',
                ).optional(),
            ]),
        ) as Record<ImageKey, z.ZodOptional<z.ZodString>>,
    )
    .prefault({})
    .transform(
        (overrides) =>
            Object.fromEntries((Object.keys(IMAGES) as ImageKey[]).map((k) => [k, overrides[k] ?? imageReference(IMAGES[k])])) as Record<
                ImageKey,
                string
            >,
    );
export type ImageRefs = z.infer<typeof imagesSchema>;
