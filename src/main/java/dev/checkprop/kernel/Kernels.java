package dev.checkprop.kernel;

import java.util.Optional;

/**
 * Chooses the kernel implementation once per JVM.
 *
 * <p>The Vector API ({@code jdk.incubator.vector}) is used when the module has been added to the
 * boot layer ({@code --add-modules jdk.incubator.vector}); otherwise the scalar kernels are used.
 * Both give the same bits (see {@link DenseKernels}), so this choice changes speed, never results.
 * The system property {@code checkprop.kernels=scalar} forces the scalar path. The choice is logged
 * once through {@link System.Logger} at INFO.
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

    /** Answers the Vector API kernels, or empty when the module is not in the boot layer. */
    public static Optional<DenseKernels> vector() {
        if (ModuleLayer.boot().findModule(VECTOR_MODULE).isEmpty()) {
            return Optional.empty();
        }
        try {
            Class<?> c = Class.forName(VECTOR_CLASS);
            final DenseKernels k = (DenseKernels) c.getDeclaredField("INSTANCE").get(null);
            return Optional.of(k.withSubnormals(Subnormals.flushByDefault()));
        } catch (ReflectiveOperationException | LinkageError e) {
            // The module is there but the class would not load: a bug or an unsupported platform,
            // never silent, since the user asked for the fast path.
            System.getLogger(Kernels.class.getName()).log(System.Logger.Level.WARNING,
                    "checkprop: Vector API kernels failed to load, using scalar kernels", e);
            return Optional.empty();
        }
    }

    private static DenseKernels choose() {
        System.Logger log = System.getLogger(Kernels.class.getName());
        if ("scalar".equals(System.getProperty("checkprop.kernels"))) {
            log.log(System.Logger.Level.INFO, "checkprop: scalar kernels (forced by -Dcheckprop.kernels=scalar)");
            return scalar();
        }
        Optional<DenseKernels> v = vector();
        if (v.isPresent()) {
            log.log(System.Logger.Level.INFO, "checkprop: Vector API kernels");
            return v.get();
        }
        log.log(System.Logger.Level.INFO,
                "checkprop: scalar kernels (add --add-modules jdk.incubator.vector for the Vector API path)");
        return scalar();
    }
}
