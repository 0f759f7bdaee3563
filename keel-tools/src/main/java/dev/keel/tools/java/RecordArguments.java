package dev.keel.tools.java;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonArray;
import dev.keel.json.JsonValue.JsonBool;
import dev.keel.json.JsonValue.JsonNumber;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.json.JsonValue.JsonString;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Binds JSON arguments to a record: strings, booleans, {@code int}/{@code long}/{@code double} (and
 * boxed), {@link BigDecimal}, enums (by constant name), nested records, {@code List}s of those, and
 * {@code Optional} for members that may be absent. Every error names the JSON pointer.
 */
public final class RecordArguments {
  private RecordArguments() {}

  /** Checks up front that every component of {@code type} can be bound. */
  public static void check(Class<? extends Record> type) {
    for (RecordComponent c : type.getRecordComponents()) {
      checkType(c.getGenericType(), type.getSimpleName() + "." + c.getName());
    }
  }

  private static void checkType(Type t, String where) {
    if (t instanceof ParameterizedType p
        && (p.getRawType() == List.class || p.getRawType() == Optional.class)) {
      checkType(p.getActualTypeArguments()[0], where);
      return;
    }
    if (t instanceof Class<?> c
        && (c == String.class
            || c == boolean.class
            || c == Boolean.class
            || c == int.class
            || c == Integer.class
            || c == long.class
            || c == Long.class
            || c == double.class
            || c == Double.class
            || c == BigDecimal.class
            || c == JsonValue.class
            || c.isEnum())) {
      return;
    }
    if (t instanceof Class<?> c && c.isRecord()) {
      for (RecordComponent rc : c.getRecordComponents()) {
        checkType(rc.getGenericType(), where + "." + rc.getName());
      }
      return;
    }
    throw new IllegalArgumentException("cannot bind JSON arguments to " + where + " of type " + t);
  }

  /** Binds {@code arguments} to a new {@code type}. */
  public static <A extends Record> A bind(JsonObject arguments, Class<A> type) {
    return type.cast(bindRecord(arguments, type, ""));
  }

  private static Object bindRecord(JsonValue value, Class<?> type, String pointer) {
    if (!(value instanceof JsonObject o)) {
      throw mismatch(pointer, "an object");
    }
    RecordComponent[] components = type.getRecordComponents();
    Object[] values = new Object[components.length];
    Class<?>[] types = new Class<?>[components.length];
    for (int i = 0; i < components.length; i++) {
      RecordComponent c = components[i];
      types[i] = c.getType();
      Optional<JsonValue> member = o.get(c.getName());
      String at = pointer + "/" + c.getName();
      if (c.getType() == Optional.class) {
        Type inner = ((ParameterizedType) c.getGenericType()).getActualTypeArguments()[0];
        values[i] =
            member.filter(v -> !(v instanceof JsonValue.JsonNull)).map(v -> convert(v, inner, at));
      } else if (member.isEmpty()) {
        throw new IllegalArgumentException(at + ": required member is missing");
      } else {
        values[i] = convert(member.get(), c.getGenericType(), at);
      }
    }
    try {
      Constructor<?> ctor = type.getDeclaredConstructor(types);
      ctor.setAccessible(true);
      return ctor.newInstance(values);
    } catch (InvocationTargetException e) {
      throw new IllegalArgumentException(
          (pointer.isEmpty() ? "(root)" : pointer) + ": " + e.getCause().getMessage(), e);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot construct " + type.getName(), e);
    }
  }

  private static Object convert(JsonValue v, Type t, String at) {
    if (t instanceof ParameterizedType p && p.getRawType() == List.class) {
      if (!(v instanceof JsonArray a)) {
        throw mismatch(at, "an array");
      }
      List<Object> out = new ArrayList<>();
      for (int i = 0; i < a.items().size(); i++) {
        out.add(convert(a.items().get(i), p.getActualTypeArguments()[0], at + "/" + i));
      }
      return List.copyOf(out);
    }
    Class<?> c = (Class<?>) t;
    if (c == JsonValue.class) {
      return v;
    }
    if (c == String.class) {
      return v instanceof JsonString s ? s.value() : fail(at, "a string");
    }
    if (c == boolean.class || c == Boolean.class) {
      return v instanceof JsonBool b ? b.value() : fail(at, "a boolean");
    }
    if (c.isEnum()) {
      if (v instanceof JsonString s) {
        for (Object constant : c.getEnumConstants()) {
          if (((Enum<?>) constant).name().equalsIgnoreCase(s.value())) {
            return constant;
          }
        }
      }
      return fail(at, "one of " + List.of(c.getEnumConstants()));
    }
    if (c.isRecord()) {
      return bindRecord(v, c, at);
    }
    if (!(v instanceof JsonNumber n)) {
      return fail(at, "a number");
    }
    try {
      if (c == int.class || c == Integer.class) {
        return n.value().intValueExact();
      }
      if (c == long.class || c == Long.class) {
        return n.value().longValueExact();
      }
    } catch (ArithmeticException e) {
      return fail(at, "an integer in range");
    }
    if (c == double.class || c == Double.class) {
      return n.value().doubleValue();
    }
    return n.value();
  }

  private static Object fail(String at, String expected) {
    throw mismatch(at, expected);
  }

  private static IllegalArgumentException mismatch(String at, String expected) {
    return new IllegalArgumentException((at.isEmpty() ? "(root)" : at) + ": expected " + expected);
  }
}
