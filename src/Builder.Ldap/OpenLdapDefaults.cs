using System.Runtime.InteropServices;

namespace Builder.Ldap;

/// <summary>
/// Gives libldap (OpenLDAP's client library, which System.DirectoryServices.Protocols uses on Linux) the timeouts
/// that <see cref="System.DirectoryServices.Protocols.LdapConnection.Timeout"/> does not reach. There, a bind is the
/// synchronous <c>ldap_sasl_bind_s</c>, which waits as long as libldap's own <c>LDAP_OPT_TIMEOUT</c> says (forever by
/// default), and connecting waits for <c>LDAP_OPT_NETWORK_TIMEOUT</c> (the kernel's minutes by default): a server that
/// accepts connections and never answers would hold every login, and a thread, forever.
/// <para>
/// The connection's own handle is private to the library, so the options are set on libldap's global defaults, which a
/// new handle copies when it is created (ldap_set_option(3): "If ld is NULL, the option is set in the global
/// defaults"). Setting them and creating the handle happen under one lock, so a handle gets the timeout of the caller
/// that created it.
/// </para>
/// <para>
/// <c>LDAP_OPT_RESTART</c> is set too: libldap waits in <c>poll</c>, which a signal interrupts, and without it an
/// interrupted wait is reported as <c>LDAP_SERVER_DOWN</c> ("unreachable"). A process that runs others gets SIGCHLD
/// whenever one ends, on any of its threads, so a login could fail as if the server were down; with the option libldap
/// waits again for what is left of the timeout.
/// </para>
/// </summary>
internal static unsafe class OpenLdapDefaults
{
    // ldap.h (OpenLDAP 2.4–2.6).
    private const int LdapOptRestart = 0x0009;
    private const int LdapOptTimeout = 0x5002;
    private const int LdapOptNetworkTimeout = 0x5005;
    private const int LdapOptSuccess = 0;

    /// <summary>The names System.DirectoryServices.Protocols 10 loads, in its order, so that both use the same library and its defaults.</summary>
    private static readonly string[] LibraryNames = ["libldap.so.2", "libldap-2.6.so.0", "libldap-2.5.so.0", "libldap-2.4.so.2"];

    private static readonly Lock Gate = new();
    private static nint s_setOption;

    /// <summary>Runs <paramref name="create"/> (which must create the LDAP handle) with libldap's defaults set to <paramref name="timeout"/>.</summary>
    public static T CreateWithTimeout<T>(TimeSpan timeout, Func<T> create)
    {
        // Windows' wldap32 takes LdapConnection.Timeout for connecting; there is no libldap to configure.
        if (!OperatingSystem.IsLinux())
        {
            return create();
        }

        lock (Gate)
        {
            var setOption = (delegate* unmanaged<nint, int, void*, int>)SetOptionFunction();
            // struct timeval on LP64 Linux (x86_64, aarch64): two longs.
            var value = stackalloc long[2];
            value[0] = (long)timeout.TotalSeconds;
            value[1] = timeout.Milliseconds * 1000L;
            // A boolean option is on for any pointer but LDAP_OPT_OFF (NULL).
            var on = 1;
            if (setOption(0, LdapOptNetworkTimeout, value) != LdapOptSuccess || setOption(0, LdapOptTimeout, value) != LdapOptSuccess
                || setOption(0, LdapOptRestart, &on) != LdapOptSuccess)
            {
                throw new InvalidOperationException("libldap refused LDAP_OPT_NETWORK_TIMEOUT, LDAP_OPT_TIMEOUT or LDAP_OPT_RESTART");
            }

            return create();
        }
    }

    private static nint SetOptionFunction()
    {
        if (s_setOption != 0)
        {
            return s_setOption;
        }

        foreach (var name in LibraryNames)
        {
            if (NativeLibrary.TryLoad(name, out var library))
            {
                return s_setOption = NativeLibrary.GetExport(library, "ldap_set_option");
            }
        }

        throw new DllNotFoundException(
            $"OpenLDAP's client library was not found (tried {string.Join(", ", LibraryNames)}); on Debian 12 it is the package libldap-2.5-0");
    }
}
