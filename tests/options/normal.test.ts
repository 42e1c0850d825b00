import { erfcx, erfcxPrime, normalCdf, normalPdf } from "../../core/options/normal.ts";
import { normalisedOtm, normalisedOtmComplement } from "../../core/options/normalised_black.ts";
import { relClose } from "./helpers.ts";

// Reference values: mpmath 1.3.0 at 60 significant digits (mp.dps = 60), `ncdf(x)`,
// `exp(x**2)*erfc(x)`, and b(θ, s) = e^{−θ/2}·ncdf(−θ/s + s/2) − e^{θ/2}·ncdf(−θ/s − s/2),
// each rounded to the nearest double.
const CDF: [number, number][] = [
  [-1, 0.15865525393145705],
  [-3, 0.0013498980316300946],
  [-8, 6.220960574271784e-16],
  [-15, 3.670966199312751e-51],
  [-20, 2.7536241186062337e-89],
  [-30, 4.906713927148187e-198],
  [-37, 5.725571222524577e-300],
  [0.5, 0.6914624612740131],
  [2, 0.9772498680518208],
  [5, 0.9999997133484281],
];

Deno.test("normalCdf (Cody's erfc, reused from core/analytics) is accurate to 1e-15 relative, also at N(−37) ≈ 5.7e-300", () => {
  for (const [x, expected] of CDF) relClose(normalCdf(x), expected, 1e-15, `N(${x})`);
});

Deno.test("normalPdf: φ(0) = 1/√(2π), φ(1) = e^{−½}/√(2π)", () => {
  relClose(normalPdf(0), 0.3989422804014327, 1e-16, "φ(0)");
  relClose(normalPdf(1), 0.24197072451914337, 1e-15, "φ(1)");
});

const ERFCX: [number, number][] = [
  [-0.3, 1.4537492328427655],
  [0.2, 0.8090195199015807],
  [0.5, 0.6156903441929259],
  [1, 0.427583576155807],
  [3, 0.17900115118138996],
  [4.5, 0.12248480427384142],
  [10, 0.05614099274382259],
  [27, 0.02088160799042094],
  [100, 0.005641613782989433],
];

Deno.test("erfcx = e^{x²}erfc(x) to 1e-15 relative, where e^{x²} alone overflows (x = 100)", () => {
  for (const [x, expected] of ERFCX) relClose(erfcx(x), expected, 1e-15, `erfcx(${x})`);
});

Deno.test("erfcx' = 2x·erfcx − 2/√π matches a central difference", () => {
  for (const x of [-0.4, 0, 0.3, 1, 3.9, 4.1, 8, 30]) {
    const h = 1e-5 * Math.max(1, Math.abs(x));
    const fd = (erfcx(x + h) - erfcx(x - h)) / (2 * h);
    relClose(erfcxPrime(x), fd, 1e-8, `erfcx'(${x})`);
  }
});

// The normalised OTM Black price in each evaluation region, including the cancellation-prone
// ones (small s near the money; small s far out of the money), against mpmath.
const NORMALISED: [number, number, number][] = [
  [0, 0.2, 0.079655674554057967],
  [0.1, 0.05, 0.00042443083085118716],
  [0.1, 0.41, 0.1173516170807252],
  [0.1, 0.43, 0.12493818147677391],
  [1, 0.1, 7.4653976115686172e-26],
  [1, 0.5, 0.0041423587506785749],
  [0.01, 0.001, 7.474559337762834e-28],
  [1.6, 2, 0.18031376943750336],
  [0, 5, 0.98758066934844773],
];

Deno.test("normalised Black b(θ, s) to 1e-15 relative in every region (series, erfcx difference, erfc form)", () => {
  for (const [theta, s, expected] of NORMALISED) {
    relClose(normalisedOtm(theta, s), expected, 1e-15, `b(${theta}, ${s})`);
    relClose(
      normalisedOtm(theta, s) + normalisedOtmComplement(theta, s),
      Math.exp(-theta / 2),
      1e-15,
      `b + (e^{−θ/2} − b) at (${theta}, ${s})`,
    );
  }
});
