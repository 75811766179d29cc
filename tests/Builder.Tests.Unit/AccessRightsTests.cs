using Builder.Core.Access;
using Builder.Core.Packaging;

namespace Builder.Tests.Unit;

public sealed class AccessRightsTests
{
    private static ProjectGlobs Globs(params string[] globs)
    {
        Assert.True(ProjectGlobs.TryParse(globs, out var parsed, out var error), error);
        return parsed;
    }

    private static VersionSpecifier Versions(string text)
    {
        Assert.True(VersionSpecifier.TryParse(text, out var specifier, out var error), error);
        return specifier;
    }

    private static Grant Read(string glob, string? versions = null) => new(AccessScope.Read, Globs(glob), versions is null ? null : Versions(versions));

    private static Grant Upload(string glob) => new(AccessScope.Upload, Globs(glob));

    [Fact]
    public void An_admin_may_do_everything_everywhere()
    {
        var admin = AccessRights.Administrator;

        Assert.True(admin.IsAdmin);
        Assert.True(admin.ReadsEverything);
        Assert.True(admin.MayUploadSomewhere);
        Assert.True(admin.CanUpload("anything"));
        Assert.Same(ReadAccess.Everything, admin.Read("anything"));
        Assert.True(admin.CanRead("anything", "0.0.1.dev1"));
        Assert.Equal("*", admin.ReadKey);
    }

    [Fact]
    public void No_rights_allow_nothing()
    {
        var none = AccessRights.None;

        Assert.False(none.IsAdmin);
        Assert.False(none.ReadsEverything);
        Assert.False(none.MayUploadSomewhere);
        Assert.False(none.CanUpload("acme-app"));
        Assert.False(none.Read("acme-app").Any);
        Assert.False(none.CanRead("acme-app", "1.0"));
        Assert.NotEqual(AccessRights.ReadAll.ReadKey, none.ReadKey);
    }

    [Fact]
    public void Read_on_globs_is_every_version_of_matching_projects_and_nothing_of_others()
    {
        var rights = new AccessRights([Read("acme-*"), Read("tools")]);

        Assert.False(rights.ReadsEverything);
        Assert.True(rights.Read("acme-app").IsEverything);
        Assert.True(rights.Read("tools").IsEverything);
        Assert.False(rights.Read("tools-extra").Any);
        Assert.False(rights.Read("other").Any);
        Assert.Equal("*", rights.Read("acme-app").Key);
        Assert.Equal("-", rights.Read("other").Key);
        Assert.False(rights.MayUploadSomewhere);
        Assert.False(rights.CanUpload("acme-app"));
    }

    [Fact]
    public void A_version_limit_leaves_only_the_matching_versions()
    {
        var rights = new AccessRights([Read("acme-sdk", ">=2,<3")]);
        var access = rights.Read("acme-sdk");

        Assert.True(access.Any);
        Assert.False(access.IsEverything);
        string[] versions = ["1.0", "1.9.9", "2.0", "2.0.1", "2.5rc1", "2.99", "3.0", "3.0.0a1", "10.0"];
        Assert.Equal([false, false, true, true, true, true, false, false, false], versions.Select(access.Allows));
        Assert.Equal(versions.Select(access.Allows), versions.Select(v => rights.CanRead("acme-sdk", v)));
        Assert.False(rights.Read("acme-app").Any);
        Assert.NotEqual("*", access.Key);
    }

    [Fact]
    public void Grants_for_one_project_add_up()
    {
        // Any grant without a version limit wins; several limits are alternatives.
        var unlimited = new AccessRights([Read("acme-*", ">=2"), Read("acme-app")]);
        var either = new AccessRights([Read("acme-*", "<1"), Read("acme-*", ">=3")]);

        Assert.True(unlimited.Read("acme-app").IsEverything);
        Assert.False(unlimited.Read("acme-sdk").IsEverything);
        Assert.True(unlimited.CanRead("acme-sdk", "2.0"));
        Assert.False(unlimited.CanRead("acme-sdk", "1.0"));
        string[] versions = ["0.9", "1.0", "2.9", "3.0", "4.1"];
        Assert.Equal([true, false, false, true, true], versions.Select(v => either.CanRead("acme-x", v)));
    }

    [Fact]
    public void Upload_grants_do_not_give_read()
    {
        var rights = new AccessRights([Upload("acme-*")]);

        Assert.True(rights.MayUploadSomewhere);
        Assert.True(rights.CanUpload("acme-app"));
        Assert.False(rights.CanUpload("other"));
        Assert.False(rights.Read("acme-app").Any);
        Assert.False(rights.ReadsEverything);
        Assert.False(rights.IsAdmin);
    }

    [Fact]
    public void A_token_never_allows_more_than_its_bound_its_owners_rights_now()
    {
        var owner = new AccessRights([Read("acme-*"), Upload("acme-app")]);

        var everything = new AccessRights([Read("*"), Upload("*"), new Grant(AccessScope.Admin, ProjectGlobs.All)], owner);

        Assert.False(everything.IsAdmin);
        Assert.False(everything.ReadsEverything);
        Assert.True(everything.Read("acme-sdk").IsEverything);
        Assert.False(everything.Read("other").Any);
        Assert.True(everything.CanUpload("acme-app"));
        Assert.False(everything.CanUpload("acme-sdk"));
        Assert.False(everything.CanUpload("other"));
        Assert.True(everything.MayUploadSomewhere);
        // Within its owner's rights, a token's own limits still hold.
        var narrow = new AccessRights([Read("acme-app", ">=2")], owner);
        Assert.False(narrow.Read("acme-sdk").Any);
        Assert.True(narrow.CanRead("acme-app", "2.1"));
        Assert.False(narrow.CanRead("acme-app", "1.0"));
        Assert.False(narrow.MayUploadSomewhere);
        Assert.False(narrow.CanUpload("acme-app"));
    }

    [Fact]
    public void Version_limits_of_a_token_and_of_its_owner_both_apply()
    {
        var owner = new AccessRights([Read("acme-*", "<3")]);
        var token = new AccessRights([Read("acme-sdk", ">=2")], owner);

        string[] versions = ["1.0", "2.0", "2.9", "3.0"];
        Assert.Equal([false, true, true, false], versions.Select(v => token.CanRead("acme-sdk", v)));
        Assert.Equal(2, token.Read("acme-sdk").Clauses.Count);
    }

    [Fact]
    public void A_token_of_an_owner_who_may_do_nothing_allows_nothing()
    {
        var token = new AccessRights([Read("*"), Upload("*")], AccessRights.None);

        Assert.False(token.ReadsEverything);
        Assert.False(token.Read("acme-app").Any);
        Assert.False(token.MayUploadSomewhere);
        Assert.False(token.CanUpload("acme-app"));
    }

    [Fact]
    public void An_admin_token_of_an_admin_owner_is_admin()
    {
        var token = new AccessRights([new Grant(AccessScope.Admin, ProjectGlobs.All)], AccessRights.Administrator);

        Assert.True(token.IsAdmin);
        Assert.True(token.ReadsEverything);
        Assert.True(token.CanUpload("anything"));
    }

    [Fact]
    public void Principals_who_see_the_same_index_share_a_read_key_and_others_do_not()
    {
        var a = new AccessRights([Read("acme-*"), Read("tools", ">=2"), Upload("acme-*")]);
        var b = new AccessRights([Upload("other"), Read("tools", ">=2"), Read("Acme_*")]);
        var c = new AccessRights([Read("acme-*"), Read("tools", ">=3")]);
        var d = new AccessRights([Read("acme-*")]);
        var bound = new AccessRights([Read("acme-*"), Read("tools", ">=2")], AccessRights.ReadAll);
        var boundNarrow = new AccessRights([Read("acme-*"), Read("tools", ">=2")], d);

        Assert.Equal(a.ReadKey, b.ReadKey);
        Assert.NotEqual(a.ReadKey, c.ReadKey);
        Assert.NotEqual(a.ReadKey, d.ReadKey);
        Assert.NotEqual(a.ReadKey, boundNarrow.ReadKey);
        Assert.NotEqual("*", a.ReadKey);
        Assert.Equal("*", AccessRights.ReadAll.ReadKey);
        Assert.Equal("*", new AccessRights([Read("*")]).ReadKey);
        // Keys name what is visible: equal keys must mean equal answers.
        foreach (var project in new[] { "acme-app", "tools", "other" })
        {
            Assert.Equal(a.Read(project).Key, b.Read(project).Key);
            Assert.Equal(a.Read(project).Key, bound.Read(project).Key);
        }
    }

    [Fact]
    public void Read_access_and_combines_limits_and_nothing_wins()
    {
        var two = ReadAccess.Only([Versions(">=2")]);
        var belowThree = ReadAccess.Only([Versions("<3")]);

        var both = two.And(belowThree);

        Assert.True(both.Allows("2.5"));
        Assert.False(both.Allows("3.0"));
        Assert.False(both.Allows("1.0"));
        Assert.Same(ReadAccess.None, both.And(ReadAccess.None));
        Assert.Same(ReadAccess.None, ReadAccess.None.And(ReadAccess.Everything));
        Assert.Same(two, two.And(ReadAccess.Everything));
        Assert.Same(two, ReadAccess.Everything.And(two));
        Assert.Same(ReadAccess.None, ReadAccess.Only([]));
        Assert.False(ReadAccess.None.Allows("1.0"));
        Assert.True(ReadAccess.Everything.Allows("1.0"));
        Assert.NotEqual(two.Key, both.Key);
    }

    [Theory]
    [InlineData("read", AccessScope.Read)]
    [InlineData(" Upload ", AccessScope.Upload)]
    [InlineData("ADMIN", AccessScope.Admin)]
    public void Scopes_parse_by_their_names(string text, AccessScope scope)
    {
        Assert.True(AccessScopes.TryParse(text, out var parsed));
        Assert.Equal(scope, parsed);
        Assert.Equal(text.Trim().ToLowerInvariant(), AccessScopes.Name(parsed));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("write")]
    [InlineData("read,upload")]
    public void Other_scope_names_are_refused(string? text) => Assert.False(AccessScopes.TryParse(text, out _));

    [Fact]
    public void Builds_are_seen_by_admins_and_by_readers_of_their_release()
    {
        var reader = new AccessRights([Read("acme-*", "<2")]);

        Assert.True(AccessRights.Administrator.CanSeeBuild(null, null));
        Assert.True(AccessRights.Administrator.CanSeeBuild("other", "1.0"));
        Assert.True(reader.CanSeeBuild("acme-app", "1.5"));
        Assert.False(reader.CanSeeBuild("acme-app", "2.0"));
        Assert.False(reader.CanSeeBuild("other", "1.0"));
        Assert.False(reader.CanSeeBuild("acme-app", null));
        Assert.False(AccessRights.ReadAll.CanSeeBuild(null, null));
        Assert.True(AccessRights.ReadAll.CanSeeBuild("other", "1.0"));
    }

    [Fact]
    public void Parsed_and_string_versions_are_allowed_alike()
    {
        // Two clauses (a token's limit within its owner's): both must allow.
        var access = new AccessRights([Read("acme-*", ">=1,<2")], new AccessRights([Read("acme-app", "!=1.5")])).Read("acme-app");
        Assert.Equal(2, access.Clauses.Count);

        foreach (var version in new[] { "0.9", "1.0", "1.5", "1.9rc1", "2.0", "not-a-version" })
        {
            Assert.Equal(access.Allows(version), access.Allows(new ParsedVersion(version)));
        }

        Assert.True(access.Allows("1.0"));
        Assert.False(access.Allows(new ParsedVersion("1.5")));
    }
}

