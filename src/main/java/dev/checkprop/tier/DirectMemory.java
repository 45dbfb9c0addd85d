package dev.checkprop.tier;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;

/**
 * The JVM's direct memory: its limit, what is reserved now, and freeing a direct buffer at once.
 * Without an explicit free, a closed executor's off-heap slots stay reserved until a garbage
 * collection finds their buffers, and a training run that builds executors one after another could
 * meet the limit with most of it garbage.
 */
public final class DirectMemory {

    /** {@code sun.misc.Unsafe.invokeCleaner}, or null where the JDK does not offer it (then the GC frees). */
    private static final MethodHandle CLEANER = cleaner();

    private DirectMemory() {
    }

    private static MethodHandle cleaner() {
        try {
            Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
            java.lang.reflect.Field f = unsafeClass.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            Object unsafe = f.get(null);
            return MethodHandles.lookup().findVirtual(unsafeClass, "invokeCleaner", MethodType.methodType(void.class,
                    ByteBuffer.class)).bindTo(unsafe);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /**
     * Frees a direct buffer now (it must not be used again, nor any view of it), or leaves it to the GC
     * where that is impossible: so that direct memory measured after this is not lowered later by a
     * collection that finds the buffer.
     */
    public static void free(ByteBuffer b) {
        if (b == null || !b.isDirect() || CLEANER == null) {
            return;
        }
        try {
            CLEANER.invokeExact(b);
        } catch (Throwable e) {
            // A view or a buffer already freed: the GC frees it, which is only later.
        }
    }

    /**
     * Answers the most direct memory this JVM may reserve: {@code -XX:MaxDirectMemorySize}, or when
     * it is not set (0), the heap's maximum, as the JDK takes it.
     */
    public static long limit() {
        final long v = maxDirectMemorySize();
        return v > 0 ? v : Runtime.getRuntime().maxMemory();
    }

    /** Answers whether {@code -XX:MaxDirectMemorySize} was given (else the limit is the heap's maximum). */
    public static boolean limitGiven() {
        return maxDirectMemorySize() > 0;
    }

    /** The option's value from the HotSpot diagnostic bean; 0 (the default's meaning) where there is none. */
    private static long maxDirectMemorySize() {
        try {
            return Long.parseLong(ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class)
                    .getVMOption("MaxDirectMemorySize").getValue());
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /** Answers the bytes the "direct" buffer pool holds now (its total capacity, what counts against the limit). */
    public static long reserved() {
        return pool().getTotalCapacity();
    }

    /** Answers the bytes of memory the "direct" buffer pool uses now. */
    public static long used() {
        return pool().getMemoryUsed();
    }

    private static BufferPoolMXBean pool() {
        for (BufferPoolMXBean b : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (b.getName().equals("direct")) {
                return b;
            }
        }
        throw new IllegalStateException("this JVM has no \"direct\" buffer pool bean");
    }
}
