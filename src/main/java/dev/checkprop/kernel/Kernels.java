package dev.checkprop.kernel;

import java.util.Optional;

/**
 * Chooses the kernel implementation once per JVM.
 *
 * <p>The Vector API ({@code jdk.incubator.vector}) is used when the module has been added to the
 * boot layer ({@code --add-modules jdk.incubator.vector}); otherwise the scalar kernels are used.
 * Both give the same bits (see {@link DenseKernels}), so this choice changes speed, never results.
 * The system property {@code checkprop.kernels=scalar} forces the scalar path.
 *
 * <p>The normal path is silent. Falling back to the scalar kernels, which are slower,
 * logs one line through {@link System.Logger} at WARNING with the flag that enables the fast path (as
 * Apache Lucene does); forcing them with the property logs only at DEBUG.
 *
 * <p>The vector class is loaded reflectively, as Apache Lucene does, so that a JVM without the
 * module never resolves a class that refers to it.
 */
public final class Kernels {

    private static final String VECTOR_MODULE = "jdk.incubator.vector";
    private static final String VECTOR_CLASS = "dev.checkprop.kernel.VectorKernels";

    private Kernels() {
    }

    private static final class Holder {
        static final DenseKernels ACTIVE = choose();
    }

    /**
     * Answers the kernels this JVM uses: the Vector API ones when the module is there, flushing
     * subnormal results to zero unless {@code -Dcheckprop.subnormals=keep} (see {@link Subnormals}).
     */
    public static DenseKernels get() {
        return Holder.ACTIVE;
    }

    /**
     * Answers the scalar kernels, the reference implementation of the bit contract, with the JVM's
     * default subnormal mode ({@link Subnormals#flushByDefault()}).
     */
    public static DenseKernels scalar() {
        return ScalarKernels.INSTANCE.withSubnormals(Subnormals.flushByDefault());
    }

    /**
     * Answers the Vector API kernels, or empty when the module is not in the boot layer. A module
     * that is there but whose kernels would not load is logged at WARNING.
     *
     * @return the Vector API kernels, if this JVM can run them
     */
    public static Optional<DenseKernels> vector() {
        Object k = loadVector();
        if (k instanceof Throwable t) {
            System.getLogger(Kernels.class.getName()).log(System.Logger.Level.WARNING,
                    "checkprop: Vector API kernels failed to load: " + t);
        }
        return k instanceof DenseKernels d ? Optional.of(d) : Optional.empty();
    }

    /** The vector kernels, null without the module, or why they would not load. */
    private static Object loadVector() {
        if (ModuleLayer.boot().findModule(VECTOR_MODULE).isEmpty()) {
            return null;
        }
        try {
            Class<?> c = Class.forName(VECTOR_CLASS);
            final DenseKernels k = (DenseKernels) c.getDeclaredField("INSTANCE").get(null);
            return k.withSubnormals(Subnormals.flushByDefault());
        } catch (ReflectiveOperationException | LinkageError e) {
            // The module is there but the class would not load: a bug or an unsupported platform.
            return e;
        }
    }

    private static DenseKernels choose() {
        System.Logger log = System.getLogger(Kernels.class.getName());
        if ("scalar".equals(System.getProperty("checkprop.kernels"))) {
            log.log(System.Logger.Level.DEBUG, "checkprop: scalar kernels (forced by -Dcheckprop.kernels=scalar)");
            return scalar();
        }
        Object v = loadVector();
        if (v instanceof DenseKernels k) {
            return k;
        }
        if (v instanceof Throwable t) {
            // Never silent, since the user asked for the fast path; one line (the trace at DEBUG).
            log.log(System.Logger.Level.WARNING, "checkprop: Vector API kernels failed to load (" + t
                    + "); using the scalar kernels (same results, slower)");
            log.log(System.Logger.Level.DEBUG, "checkprop: why the Vector API kernels failed to load", t);
        } else {
            log.log(System.Logger.Level.WARNING, "checkprop: the Vector API is not enabled; using the scalar kernels"
                    + " (same results, slower). Pass '--add-modules jdk.incubator.vector' to java"
                    + " for the Vector API kernels");
        }
        return scalar();
    }
}
