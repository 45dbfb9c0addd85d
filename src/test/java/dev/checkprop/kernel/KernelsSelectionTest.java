package dev.checkprop.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Modifier;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@link Kernels} picks the Vector API kernels when the incubator module is present (as in the tests). */
class KernelsSelectionTest {

    @Test
    void vectorModuleIsInTheTestJvm() {
        assertTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(),
                "the tests must run with --add-modules jdk.incubator.vector (see pom.xml)");
    }

    @Test
    void getReturnsTheVectorKernels() {
        DenseKernels k = Kernels.get();
        assertEquals("vector", k.name());
        assertSame(VectorKernels.INSTANCE, k);
        Optional<DenseKernels> v = Kernels.vector();
        assertTrue(v.isPresent());
        assertSame(VectorKernels.INSTANCE, v.get());
    }

    @Test
    void scalarIsTheReference() {
        assertEquals("scalar", Kernels.scalar().name());
        assertSame(ScalarKernels.INSTANCE, Kernels.scalar());
    }

    /** The shape Kernels relies on when it loads the class reflectively. */
    @Test
    void vectorKernelsClassShape() throws ReflectiveOperationException {
        Class<?> c = Class.forName("dev.checkprop.kernel.VectorKernels");
        assertTrue(Modifier.isFinal(c.getModifiers()));
        assertTrue(DenseKernels.class.isAssignableFrom(c), "a DenseKernels");
        var f = c.getDeclaredField("INSTANCE");
        assertTrue(Modifier.isStatic(f.getModifiers()) && Modifier.isFinal(f.getModifiers()));
        assertEquals(c, f.getType());
        for (var ctor : c.getDeclaredConstructors()) {
            assertTrue(Modifier.isPrivate(ctor.getModifiers()), "constructor must be private");
        }
    }
}
