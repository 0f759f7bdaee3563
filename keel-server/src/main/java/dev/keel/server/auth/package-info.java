/** API keys: hashed storage, roles, scopes and the tenant each key belongs to. */
@NullMarked
package dev.keel.server.auth;

import org.jspecify.annotations.NullMarked;
