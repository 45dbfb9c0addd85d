package dev.checkprop.nn;

import java.util.Locale;

/**
 * Which curvature matrix a product {@code C·v} uses, for the mean loss L(&theta;) over a batch.
 * <ul>
 * <li>{@link #HESSIAN}: H = &part;&sup2;L/&part;&theta;&sup2;, by Pearlmutter's R-operator;</li>
 * <li>{@link #GAUSS_NEWTON}: G = J<sup>T</sup> H<sub>loss</sub> J, with J = &part;a<sup>L</sup>/&part;&theta;
 *     per sample and H<sub>loss</sub> = &part;&sup2;L/&part;(a<sup>L</sup>)&sup2;: the Hessian without the
 *     terms that carry the network's own second derivatives, so positive semi-definite whenever
 *     H<sub>loss</sub> is (it is for mse, I/N, and softmax cross-entropy, (diag p &minus; p p<sup>T</sup>)/N).</li>
 * </ul>
 */
public enum Curvature {
    HESSIAN("hessian"),
    GAUSS_NEWTON("gauss-newton");

    private final String label;

    Curvature(String label) {
        this.label = label;
    }

    /** Answers the lower-case name used in reports and file metadata: {@code hessian} or {@code gauss-newton}. */
    public String label() {
        return label;
    }

    @Override
    public String toString() {
        return label.toUpperCase(Locale.ROOT);
    }
}
