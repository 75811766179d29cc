--
-- PostgreSQL database dump
--

\restrict 16Vy9ZqR9fbVyfaZGoSWv6Lco6L0JcYyldI2RkzLF80lO1KqYmepkBxQac0OQph

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: hangfire; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA hangfire;


--
-- Name: builder_audit_append_only(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.builder_audit_append_only() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN RAISE EXCEPTION 'builder_audit is append-only: % is not allowed', TG_OP; END $$;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: aggregatedcounter; Type: TABLE; Schema: hangfire; Owner: -
--

CREATE TABLE hangfire.aggregatedcounter (
    id bigint NOT NULL,
    key text NOT NULL,
    value bigint NOT NULL,
    expireat timestamp with time zone
);


--
-- Name: aggregatedcounter_id_seq; Type: SEQUENCE; Schema: hangfire; Owner: -
--

CREATE SEQUENCE hangfire.aggregatedcounter_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: aggregatedcounter_id_seq; Type: SEQUENCE OWNED BY; Schema: hangfire; Owner: -
--

ALTER SEQUENCE hangfire.aggregatedcounter_id_seq OWNED BY hangfire.aggregatedcounter.id;


--
-- Name: counter; Type: TABLE; Schema: hangfire; Owner: -
--

CREATE TABLE hangfire.counter (
    id bigint NOT NULL,
    key text NOT NULL,
    value bigint NOT NULL,
    expireat timestamp with time zone
);


--
-- Name: counter_id_seq; Type: SEQUENCE; Schema: hangfire; Owner: -
--

CREATE SEQUENCE hangfire.counter_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: counter_id_seq; Type: SEQUENCE OWNED BY; Schema: hangfire; Owner: -
--

ALTER SEQUENCE hangfire.counter_id_seq OWNED BY hangfire.counter.id;


--
-- Name: hash; Type: TABLE; Schema: hangfire; Owner: -
--

CREATE TABLE hangfire.hash (
    id bigint NOT NULL,
    key text NOT NULL,
    field text NOT NULL,
    value text,
    expireat timestamp with time zone,
    updatecount integer DEFAULT 0 NOT NULL
);


--
-- Name: hash_id_seq; Type: SEQUENCE; Schema: hangfire; Owner: -
--

CREATE SEQUENCE hangfire.hash_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: hash_id_seq; Type: SEQUENCE OWNED BY; Schema: hangfire; Owner: -
--

ALTER SEQUENCE hangfire.hash_id_seq OWNED BY hangfire.hash.id;


--
-- Name: job; Type: TABLE; Schema: hangfire; Owner: -
--

CREATE TABLE hangfire.job (
    id bigint NOT NULL,
    stateid bigint,
    statename text,
    invocationdata jsonb NOT NULL,
    arguments jsonb NOT NULL,
    createdat timestamp with time zone NOT NULL,
    expireat timestamp with time zone,
    updatecount integer DEFAULT 0 NOT NULL
);


--
-- Name: job_id_seq; Type: SEQUENCE; Schema: hangfire; Owner: -
--

CREATE SEQUENCE hangfire.job_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: job_id_seq; Type: SEQUENCE OWNED BY; Schema: hangfire; Owner: -
--

ALTER SEQUENCE hangfire.job_id_seq OWNED BY hangfire.job.id;


--
-- Name: jobparameter; Type: TABLE; Schema: hangfire; Owner: -
--

CREATE TABLE hangfire.jobparameter (
    id bigint NOT NULL,
    jobid bigint NOT NULL,
    name text NOT NULL,
    value text,
    updatecount integer DEFAULT 0 NOT NULL
);


--
-- Name: jobparameter_id_seq; Type: SEQUENCE; Schema: hangfire; Owner: -
--

CREATE SEQUENCE hangfire.jobparameter_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: jobparameter_id_seq; Type: SEQUENCE OWNED BY; Schema: hangfire; Owner: -
--

ALTER SEQUENCE hangfire.jobparameter_id_seq OWNED BY hangfire.jobparameter.id;


--
-- Name: jobqueue; Type: TABLE; Schema: hangfire; Owner: -
--

CREATE TABLE hangfire.jobqueue (
    id bigint NOT NULL,
    jobid bigint NOT NULL,
    queue text NOT NULL,
    fetchedat timestamp with time zone,
    updatecount integer DEFAULT 0 NOT NULL
);


--
-- Name: jobqueue_id_seq; Type: SEQUENCE; Schema: hangfire; Owner: -
--

CREATE SEQUENCE hangfire.jobqueue_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: jobqueue_id_seq; Type: SEQUENCE OWNED BY; Schema: hangfire; Owner: -
--

ALTER SEQUENCE hangfire.jobqueue_id_seq OWNED BY hangfire.jobqueue.id;


--
-- Name: list; Type: TABLE; Schema: hangfire; Owner: -
--

CREATE TABLE hangfire.list (
    id bigint NOT NULL,
    key text NOT NULL,
    value text,
    expireat timestamp with time zone,
    updatecount integer DEFAULT 0 NOT NULL
);


--
-- Name: list_id_seq; Type: SEQUENCE; Schema: hangfire; Owner: -
--

CREATE SEQUENCE hangfire.list_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: list_id_seq; Type: SEQUENCE OWNED BY; Schema: hangfire; Owner: -
--

ALTER SEQUENCE hangfire.list_id_seq OWNED BY hangfire.list.id;


--
-- Name: lock; Type: TABLE; Schema: hangfire; Owner: -
--

CREATE TABLE hangfire.lock (
    resource text NOT NULL,
    updatecount integer DEFAULT 0 NOT NULL,
    acquired timestamp with time zone
);


--
-- Name: schema; Type: TABLE; Schema: hangfire; Owner: -
--

CREATE TABLE hangfire.schema (
    version integer NOT NULL
);


--
-- Name: server; Type: TABLE; Schema: hangfire; Owner: -
--

CREATE TABLE hangfire.server (
    id text NOT NULL,
    data jsonb,
    lastheartbeat timestamp with time zone NOT NULL,
    updatecount integer DEFAULT 0 NOT NULL
);


--
-- Name: set; Type: TABLE; Schema: hangfire; Owner: -
--

CREATE TABLE hangfire.set (
    id bigint NOT NULL,
    key text NOT NULL,
    score double precision NOT NULL,
    value text NOT NULL,
    expireat timestamp with time zone,
    updatecount integer DEFAULT 0 NOT NULL
);


--
-- Name: set_id_seq; Type: SEQUENCE; Schema: hangfire; Owner: -
--

CREATE SEQUENCE hangfire.set_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: set_id_seq; Type: SEQUENCE OWNED BY; Schema: hangfire; Owner: -
--

ALTER SEQUENCE hangfire.set_id_seq OWNED BY hangfire.set.id;


--
-- Name: state; Type: TABLE; Schema: hangfire; Owner: -
--

CREATE TABLE hangfire.state (
    id bigint NOT NULL,
    jobid bigint NOT NULL,
    name text NOT NULL,
    reason text,
    createdat timestamp with time zone NOT NULL,
    data jsonb,
    updatecount integer DEFAULT 0 NOT NULL
);


--
-- Name: state_id_seq; Type: SEQUENCE; Schema: hangfire; Owner: -
--

CREATE SEQUENCE hangfire.state_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: state_id_seq; Type: SEQUENCE OWNED BY; Schema: hangfire; Owner: -
--

ALTER SEQUENCE hangfire.state_id_seq OWNED BY hangfire.state.id;


--
-- Name: builder_audit; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.builder_audit (
    "Id" bigint NOT NULL,
    "At" bigint NOT NULL,
    "Action" character varying(64) NOT NULL,
    "Principal" character varying(300) NOT NULL,
    "Outcome" character varying(16) NOT NULL,
    "Project" text,
    "Target" text,
    "Detail" text,
    "Address" text,
    "UserAgent" text
);


--
-- Name: builder_audit_Id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.builder_audit ALTER COLUMN "Id" ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME public."builder_audit_Id_seq"
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: builder_build_event_cursors; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.builder_build_event_cursors (
    "Subscriber" character varying(100) NOT NULL,
    "LastEventId" bigint NOT NULL
);


--
-- Name: builder_build_events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.builder_build_events (
    "Id" bigint NOT NULL,
    "BuildId" bigint NOT NULL,
    "PartId" bigint,
    "Kind" character varying(32) NOT NULL,
    "State" character varying(16) NOT NULL,
    "Detail" text,
    "At" bigint NOT NULL
);


--
-- Name: builder_build_events_Id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.builder_build_events ALTER COLUMN "Id" ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME public."builder_build_events_Id_seq"
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: builder_build_log; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.builder_build_log (
    "Id" bigint NOT NULL,
    "BuildId" bigint NOT NULL,
    "Text" text NOT NULL
);


--
-- Name: builder_build_log_Id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.builder_build_log ALTER COLUMN "Id" ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME public."builder_build_log_Id_seq"
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: builder_build_parts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.builder_build_parts (
    "Id" bigint NOT NULL,
    "BuildId" bigint NOT NULL,
    "Architecture" character varying(32) NOT NULL,
    "Identifiers" text NOT NULL,
    "IncludeSdist" boolean NOT NULL,
    "State" character varying(16) NOT NULL,
    "JobId" text,
    "Attempts" integer NOT NULL,
    "Error" text,
    "Files" text NOT NULL,
    "Digests" text DEFAULT ''::text NOT NULL,
    "LeaseOwner" character varying(200),
    "HeartbeatAt" bigint,
    "StartedAt" timestamp with time zone,
    "FinishedAt" timestamp with time zone
);


--
-- Name: builder_build_parts_Id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.builder_build_parts ALTER COLUMN "Id" ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME public."builder_build_parts_Id_seq"
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: builder_build_targets; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.builder_build_targets (
    "Id" bigint NOT NULL,
    "BuildId" bigint NOT NULL,
    "PartId" bigint,
    "Name" text NOT NULL,
    "Architecture" text NOT NULL,
    "Succeeded" boolean NOT NULL,
    "Seconds" double precision NOT NULL,
    "Error" text,
    "Files" text NOT NULL
);


--
-- Name: builder_build_targets_Id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.builder_build_targets ALTER COLUMN "Id" ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME public."builder_build_targets_Id_seq"
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: builder_builds; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.builder_builds (
    "Id" bigint NOT NULL,
    "RepositoryId" bigint NOT NULL,
    "Tag" text NOT NULL,
    "CommitSha" text NOT NULL,
    "ResolvedCommit" text,
    "DeliveryId" text,
    "Project" text,
    "Version" text,
    "State" character varying(16) NOT NULL,
    "Error" text,
    "CreatedAt" timestamp with time zone NOT NULL,
    "StartedAt" timestamp with time zone,
    "FinishedAt" timestamp with time zone,
    "Attempts" integer NOT NULL,
    "PublishAttempts" integer DEFAULT 0 NOT NULL,
    "PublishQueuedAt" bigint,
    "Generation" integer DEFAULT 0 NOT NULL,
    "RetryOf" bigint,
    "LeaseOwner" character varying(200),
    "HeartbeatAt" bigint
);


--
-- Name: builder_builds_Id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.builder_builds ALTER COLUMN "Id" ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME public."builder_builds_Id_seq"
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: builder_data_protection_keys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.builder_data_protection_keys (
    "Id" integer NOT NULL,
    "FriendlyName" text NOT NULL,
    "Xml" text NOT NULL
);


--
-- Name: builder_data_protection_keys_Id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.builder_data_protection_keys ALTER COLUMN "Id" ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME public."builder_data_protection_keys_Id_seq"
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: builder_files; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.builder_files (
    "Id" bigint NOT NULL,
    "Project" text NOT NULL,
    "Version" text NOT NULL,
    "Filename" text NOT NULL,
    "Sha256" text NOT NULL,
    "Size" bigint NOT NULL,
    "RequiresPython" text,
    "BuildId" bigint,
    "UploadedAt" timestamp with time zone NOT NULL,
    "MetadataSha256" text,
    "Yanked" boolean NOT NULL,
    "YankedReason" text,
    "DeletedAt" timestamp with time zone
);


--
-- Name: builder_files_Id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.builder_files ALTER COLUMN "Id" ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME public."builder_files_Id_seq"
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: builder_forge_reports; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.builder_forge_reports (
    "Id" bigint NOT NULL,
    "BuildId" bigint NOT NULL,
    "Target" character varying(32) NOT NULL,
    "State" character varying(16) NOT NULL,
    "Description" text,
    "EventId" bigint NOT NULL,
    "CreatedAt" bigint NOT NULL,
    "SentAt" bigint,
    "DueAt" bigint,
    "Attempts" integer NOT NULL,
    "Outcome" character varying(16),
    "Detail" text
);


--
-- Name: builder_forge_reports_Id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.builder_forge_reports ALTER COLUMN "Id" ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME public."builder_forge_reports_Id_seq"
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: builder_instance; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.builder_instance (
    "Id" integer NOT NULL,
    "TokenTag" bigint NOT NULL,
    "AccessSerial" bigint,
    "CreatedAt" timestamp with time zone NOT NULL
);


--
-- Name: builder_people; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.builder_people (
    "Id" bigint NOT NULL,
    "UserName" character varying(256) NOT NULL,
    "Source" character varying(16) NOT NULL,
    "DisplayName" text,
    "Email" text,
    "PasswordHash" text,
    "Roles" text NOT NULL,
    "Disabled" boolean NOT NULL,
    "CreatedAt" timestamp with time zone NOT NULL,
    "CreatedBy" text,
    "LastLoginAt" timestamp with time zone,
    "RolesRefreshedAt" timestamp with time zone
);


--
-- Name: builder_people_Id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.builder_people ALTER COLUMN "Id" ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME public."builder_people_Id_seq"
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: builder_repositories; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.builder_repositories (
    "Id" bigint NOT NULL,
    "Provider" character varying(32) NOT NULL,
    "Name" character varying(512) NOT NULL,
    "CloneUrl" text NOT NULL,
    "WebhookSecret" text NOT NULL,
    "ProtectedWebhookSecret" text,
    "ProtectedCredentials" text,
    "RelayProjects" text,
    "Instance" character varying(255) DEFAULT ''::character varying NOT NULL,
    "ApiUrl" text,
    "ReportStatus" boolean DEFAULT false NOT NULL,
    "ReleaseAssets" boolean DEFAULT false NOT NULL,
    "Trigger" character varying(16) DEFAULT 'tag'::character varying NOT NULL,
    "GitHubInstallationId" bigint,
    "CreatedAt" timestamp with time zone NOT NULL,
    "UpdatedAt" timestamp with time zone
);


--
-- Name: builder_repositories_Id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.builder_repositories ALTER COLUMN "Id" ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME public."builder_repositories_Id_seq"
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: builder_tokens; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.builder_tokens (
    "Id" bigint NOT NULL,
    "Name" character varying(200) NOT NULL,
    "Description" text,
    "SecretHash" character varying(64) NOT NULL,
    "Hint" text NOT NULL,
    "Scopes" text NOT NULL,
    "Projects" text,
    "Versions" text,
    "IpRanges" text,
    "ExpiresAt" bigint,
    "OwnerId" bigint,
    "CreatedBy" text NOT NULL,
    "CreatedAt" bigint NOT NULL,
    "RevokedAt" bigint,
    "RevokedBy" text,
    "FirstUsedAt" bigint,
    "LastUsedAt" bigint,
    "LastUsedFrom" text
);


--
-- Name: builder_tokens_Id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.builder_tokens ALTER COLUMN "Id" ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME public."builder_tokens_Id_seq"
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: builder_webhook_deliveries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.builder_webhook_deliveries (
    "Id" bigint NOT NULL,
    "RepositoryId" bigint,
    "Provider" character varying(32) NOT NULL,
    "Event" character varying(64) NOT NULL,
    "DeliveryId" text,
    "IdempotencyKey" text,
    "RepositoryName" text,
    "Tag" text,
    "CommitSha" text,
    "Outcome" character varying(16) NOT NULL,
    "BuildId" bigint,
    "Detail" text,
    "ReceivedAt" bigint NOT NULL
);


--
-- Name: builder_webhook_deliveries_Id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.builder_webhook_deliveries ALTER COLUMN "Id" ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME public."builder_webhook_deliveries_Id_seq"
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: aggregatedcounter id; Type: DEFAULT; Schema: hangfire; Owner: -
--

ALTER TABLE ONLY hangfire.aggregatedcounter ALTER COLUMN id SET DEFAULT nextval('hangfire.aggregatedcounter_id_seq'::regclass);


--
-- Name: counter id; Type: DEFAULT; Schema: hangfire; Owner: -
--

ALTER TABLE ONLY hangfire.counter ALTER COLUMN id SET DEFAULT nextval('hangfire.counter_id_seq'::regclass);


--
-- Name: hash id; Type: DEFAULT; Schema: hangfire; Owner: -
--

ALTER TABLE ONLY hangfire.hash ALTER COLUMN id SET DEFAULT nextval('hangfire.hash_id_seq'::regclass);


--
-- Name: job id; Type: DEFAULT; Schema: hangfire; Owner: -
--

ALTER TABLE ONLY hangfire.job ALTER COLUMN id SET DEFAULT nextval('hangfire.job_id_seq'::regclass);


--
-- Name: jobparameter id; Type: DEFAULT; Schema: hangfire; Owner: -
--

ALTER TABLE ONLY hangfire.jobparameter ALTER COLUMN id SET DEFAULT nextval('hangfire.jobparameter_id_seq'::regclass);


--
-- Name: jobqueue id; Type: DEFAULT; Schema: hangfire; Owner: -
--

ALTER TABLE ONLY hangfire.jobqueue ALTER COLUMN id SET DEFAULT nextval('hangfire.jobqueue_id_seq'::regclass);


--
-- Name: list id; Type: DEFAULT; Schema: hangfire; Owner: -
--

ALTER TABLE ONLY hangfire.list ALTER COLUMN id SET DEFAULT nextval('hangfire.list_id_seq'::regclass);


--
-- Name: set id; Type: DEFAULT; Schema: hangfire; Owner: -
--

ALTER TABLE ONLY hangfire.set ALTER COLUMN id SET DEFAULT nextval('hangfire.set_id_seq'::regclass);


--
-- Name: state id; Type: DEFAULT; Schema: hangfire; Owner: -
--

ALTER TABLE ONLY hangfire.state ALTER COLUMN id SET DEFAULT nextval('hangfire.state_id_seq'::regclass);


--
-- Data for Name: aggregatedcounter; Type: TABLE DATA; Schema: hangfire; Owner: -
--

COPY hangfire.aggregatedcounter (id, key, value, expireat) FROM stdin;
\.


--
-- Data for Name: counter; Type: TABLE DATA; Schema: hangfire; Owner: -
--

COPY hangfire.counter (id, key, value, expireat) FROM stdin;
\.


--
-- Data for Name: hash; Type: TABLE DATA; Schema: hangfire; Owner: -
--

COPY hangfire.hash (id, key, field, value, expireat, updatecount) FROM stdin;
\.


--
-- Data for Name: job; Type: TABLE DATA; Schema: hangfire; Owner: -
--

COPY hangfire.job (id, stateid, statename, invocationdata, arguments, createdat, expireat, updatecount) FROM stdin;
\.


--
-- Data for Name: jobparameter; Type: TABLE DATA; Schema: hangfire; Owner: -
--

COPY hangfire.jobparameter (id, jobid, name, value, updatecount) FROM stdin;
\.


--
-- Data for Name: jobqueue; Type: TABLE DATA; Schema: hangfire; Owner: -
--

COPY hangfire.jobqueue (id, jobid, queue, fetchedat, updatecount) FROM stdin;
\.


--
-- Data for Name: list; Type: TABLE DATA; Schema: hangfire; Owner: -
--

COPY hangfire.list (id, key, value, expireat, updatecount) FROM stdin;
\.


--
-- Data for Name: lock; Type: TABLE DATA; Schema: hangfire; Owner: -
--

COPY hangfire.lock (resource, updatecount, acquired) FROM stdin;
\.


--
-- Data for Name: schema; Type: TABLE DATA; Schema: hangfire; Owner: -
--

COPY hangfire.schema (version) FROM stdin;
23
\.


--
-- Data for Name: server; Type: TABLE DATA; Schema: hangfire; Owner: -
--

COPY hangfire.server (id, data, lastheartbeat, updatecount) FROM stdin;
\.


--
-- Data for Name: set; Type: TABLE DATA; Schema: hangfire; Owner: -
--

COPY hangfire.set (id, key, score, value, expireat, updatecount) FROM stdin;
\.


--
-- Data for Name: state; Type: TABLE DATA; Schema: hangfire; Owner: -
--

COPY hangfire.state (id, jobid, name, reason, createdat, data, updatecount) FROM stdin;
\.


--
-- Data for Name: builder_audit; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.builder_audit ("Id", "At", "Action", "Principal", "Outcome", "Project", "Target", "Detail", "Address", "UserAgent") FROM stdin;
1	639314592159250737	repository:registered	admin-token	ok	\N	repository:acme/fixture	github acme/fixture at github.com from https://github.com/acme/fixture.git; relay reads *; trigger tag, statuses off, release assets off	127.0.0.1	curl/7.88.1
2	639314592168749484	token:created	admin-token	ok	\N	token:1	token 'fixture-reader' (read; projects acme-*)	127.0.0.1	curl/7.88.1
3	639314592182198546	file:uploaded	admin-token	ok	acme-fixture	file:acme_fixture-1.0.0-py3-none-any.whl	acme-fixture 1.0.0, sha256 6fff6d397ea90e69baf34a8c825dc6d6721d7af62ef767fb374d1463acd078d5	127.0.0.1	curl/7.88.1
\.


--
-- Data for Name: builder_build_event_cursors; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.builder_build_event_cursors ("Subscriber", "LastEventId") FROM stdin;
index-cache	0
forge-reports	0
\.


--
-- Data for Name: builder_build_events; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.builder_build_events ("Id", "BuildId", "PartId", "Kind", "State", "Detail", "At") FROM stdin;
\.


--
-- Data for Name: builder_build_log; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.builder_build_log ("Id", "BuildId", "Text") FROM stdin;
\.


--
-- Data for Name: builder_build_parts; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.builder_build_parts ("Id", "BuildId", "Architecture", "Identifiers", "IncludeSdist", "State", "JobId", "Attempts", "Error", "Files", "Digests", "LeaseOwner", "HeartbeatAt", "StartedAt", "FinishedAt") FROM stdin;
\.


--
-- Data for Name: builder_build_targets; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.builder_build_targets ("Id", "BuildId", "PartId", "Name", "Architecture", "Succeeded", "Seconds", "Error", "Files") FROM stdin;
\.


--
-- Data for Name: builder_builds; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.builder_builds ("Id", "RepositoryId", "Tag", "CommitSha", "ResolvedCommit", "DeliveryId", "Project", "Version", "State", "Error", "CreatedAt", "StartedAt", "FinishedAt", "Attempts", "PublishAttempts", "PublishQueuedAt", "Generation", "RetryOf", "LeaseOwner", "HeartbeatAt") FROM stdin;
\.


--
-- Data for Name: builder_data_protection_keys; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.builder_data_protection_keys ("Id", "FriendlyName", "Xml") FROM stdin;
1	key-423c3371-6c72-4681-a310-d43dfeb60f1b	<key id="423c3371-6c72-4681-a310-d43dfeb60f1b" version="1"><creationDate>2026-11-28T10:40:13.271284Z</creationDate><activationDate>2026-11-28T10:40:13.271284Z</activationDate><expirationDate>2027-02-26T10:40:13.271284Z</expirationDate><descriptor deserializerType="Microsoft.AspNetCore.DataProtection.AuthenticatedEncryption.ConfigurationModel.AuthenticatedEncryptorDescriptorDeserializer, Microsoft.AspNetCore.DataProtection, Version=10.0.0.0, Culture=neutral, PublicKeyToken=adb9793829ddae60"><descriptor><encryption algorithm="AES_256_CBC" /><validation algorithm="HMACSHA256" /><masterKey p4:requiresEncryption="true" xmlns:p4="http://schemas.asp.net/2015/03/dataProtection"><!-- Warning: the key below is in an unencrypted form. --><value>J2IofoxGzi1wZe2boGJNAQ42/lPNoINWwhqTA223xrGvo5SAQM2DvMCwt96adipLK40GZkCvXp5sSLynpXHqwA==</value></masterKey></descriptor></descriptor></key>
\.


--
-- Data for Name: builder_files; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.builder_files ("Id", "Project", "Version", "Filename", "Sha256", "Size", "RequiresPython", "BuildId", "UploadedAt", "MetadataSha256", "Yanked", "YankedReason", "DeletedAt") FROM stdin;
1	acme-fixture	1.0.0	acme_fixture-1.0.0-py3-none-any.whl	6fff6d397ea90e69baf34a8c825dc6d6721d7af62ef767fb374d1463acd078d5	1071	\N	\N	2026-11-28 10:40:18.116446+00	ab670df8d276397a0622134d61d2d715d08f6f3a8ff0712ee6a45ca0619d37fd	f	\N	\N
\.


--
-- Data for Name: builder_forge_reports; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.builder_forge_reports ("Id", "BuildId", "Target", "State", "Description", "EventId", "CreatedAt", "SentAt", "DueAt", "Attempts", "Outcome", "Detail") FROM stdin;
\.


--
-- Data for Name: builder_instance; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.builder_instance ("Id", "TokenTag", "AccessSerial", "CreatedAt") FROM stdin;
1	800310850	\N	2026-11-28 10:40:16.365825+00
\.


--
-- Data for Name: builder_people; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.builder_people ("Id", "UserName", "Source", "DisplayName", "Email", "PasswordHash", "Roles", "Disabled", "CreatedAt", "CreatedBy", "LastLoginAt", "RolesRefreshedAt") FROM stdin;
\.


--
-- Data for Name: builder_repositories; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.builder_repositories ("Id", "Provider", "Name", "CloneUrl", "WebhookSecret", "ProtectedWebhookSecret", "ProtectedCredentials", "RelayProjects", "Instance", "ApiUrl", "ReportStatus", "ReleaseAssets", "Trigger", "GitHubInstallationId", "CreatedAt", "UpdatedAt") FROM stdin;
1	github	acme/fixture	https://github.com/acme/fixture.git		CfDJ8HEzPEJybIFGoxDUPf62Dxt98mGErk-noUDh8VYkgqcuLsmGrQbqFlBbHU-1b_Lz__49YLrJ8pqYf4LLRPcGHCLBC-KJeJC2pTMyoOlBS319-VMe9HE3d4B963eDi0eb_nhMq9FPj3GykqYSDQVfMlQaDdA4HAvwjAQj5cC4MIwH	\N	\N	github.com	\N	f	f	tag	\N	2026-11-28 10:40:15.806478+00	\N
\.


--
-- Data for Name: builder_tokens; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.builder_tokens ("Id", "Name", "Description", "SecretHash", "Hint", "Scopes", "Projects", "Versions", "IpRanges", "ExpiresAt", "OwnerId", "CreatedBy", "CreatedAt", "RevokedAt", "RevokedBy", "FirstUsedAt", "LastUsedAt", "LastUsedFrom") FROM stdin;
1	fixture-reader	\N	116659f607bafe0976c8ca7e83440686e67386970828f8fe47352e098c07a3a4	bld_yXCl	read	acme-*	\N	\N	\N	\N	admin-token	639314592163139297	\N	\N	\N	\N	\N
\.


--
-- Data for Name: builder_webhook_deliveries; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.builder_webhook_deliveries ("Id", "RepositoryId", "Provider", "Event", "DeliveryId", "IdempotencyKey", "RepositoryName", "Tag", "CommitSha", "Outcome", "BuildId", "Detail", "ReceivedAt") FROM stdin;
\.


--
-- Name: aggregatedcounter_id_seq; Type: SEQUENCE SET; Schema: hangfire; Owner: -
--

SELECT pg_catalog.setval('hangfire.aggregatedcounter_id_seq', 1, false);


--
-- Name: counter_id_seq; Type: SEQUENCE SET; Schema: hangfire; Owner: -
--

SELECT pg_catalog.setval('hangfire.counter_id_seq', 1, false);


--
-- Name: hash_id_seq; Type: SEQUENCE SET; Schema: hangfire; Owner: -
--

SELECT pg_catalog.setval('hangfire.hash_id_seq', 1, false);


--
-- Name: job_id_seq; Type: SEQUENCE SET; Schema: hangfire; Owner: -
--

SELECT pg_catalog.setval('hangfire.job_id_seq', 1, false);


--
-- Name: jobparameter_id_seq; Type: SEQUENCE SET; Schema: hangfire; Owner: -
--

SELECT pg_catalog.setval('hangfire.jobparameter_id_seq', 1, false);


--
-- Name: jobqueue_id_seq; Type: SEQUENCE SET; Schema: hangfire; Owner: -
--

SELECT pg_catalog.setval('hangfire.jobqueue_id_seq', 1, false);


--
-- Name: list_id_seq; Type: SEQUENCE SET; Schema: hangfire; Owner: -
--

SELECT pg_catalog.setval('hangfire.list_id_seq', 1, false);


--
-- Name: set_id_seq; Type: SEQUENCE SET; Schema: hangfire; Owner: -
--

SELECT pg_catalog.setval('hangfire.set_id_seq', 1, false);


--
-- Name: state_id_seq; Type: SEQUENCE SET; Schema: hangfire; Owner: -
--

SELECT pg_catalog.setval('hangfire.state_id_seq', 1, false);


--
-- Name: builder_audit_Id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public."builder_audit_Id_seq"', 3, true);


--
-- Name: builder_build_events_Id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public."builder_build_events_Id_seq"', 1, false);


--
-- Name: builder_build_log_Id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public."builder_build_log_Id_seq"', 1, false);


--
-- Name: builder_build_parts_Id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public."builder_build_parts_Id_seq"', 1, false);


--
-- Name: builder_build_targets_Id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public."builder_build_targets_Id_seq"', 1, false);


--
-- Name: builder_builds_Id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public."builder_builds_Id_seq"', 1, false);


--
-- Name: builder_data_protection_keys_Id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public."builder_data_protection_keys_Id_seq"', 1, true);


--
-- Name: builder_files_Id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public."builder_files_Id_seq"', 1, true);


--
-- Name: builder_forge_reports_Id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public."builder_forge_reports_Id_seq"', 1, false);


--
-- Name: builder_people_Id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public."builder_people_Id_seq"', 1, false);


--
-- Name: builder_repositories_Id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public."builder_repositories_Id_seq"', 1, true);


--
-- Name: builder_tokens_Id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public."builder_tokens_Id_seq"', 1, true);


--
-- Name: builder_webhook_deliveries_Id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public."builder_webhook_deliveries_Id_seq"', 1, false);


--
-- Name: aggregatedcounter aggregatedcounter_key_key; Type: CONSTRAINT; Schema: hangfire; Owner: -
--

ALTER TABLE ONLY hangfire.aggregatedcounter
    ADD CONSTRAINT aggregatedcounter_key_key UNIQUE (key);


--
-- Name: aggregatedcounter aggregatedcounter_pkey; Type: CONSTRAINT; Schema: hangfire; Owner: -
--

ALTER TABLE ONLY hangfire.aggregatedcounter
    ADD CONSTRAINT aggregatedcounter_pkey PRIMARY KEY (id);


--
-- Name: counter counter_pkey; Type: CONSTRAINT; Schema: hangfire; Owner: -
--

ALTER TABLE ONLY hangfire.counter
    ADD CONSTRAINT counter_pkey PRIMARY KEY (id);


--
-- Name: hash hash_key_field_key; Type: CONSTRAINT; Schema: hangfire; Owner: -
--

ALTER TABLE ONLY hangfire.hash
    ADD CONSTRAINT hash_key_field_key UNIQUE (key, field);


--
-- Name: hash hash_pkey; Type: CONSTRAINT; Schema: hangfire; Owner: -
--

ALTER TABLE ONLY hangfire.hash
    ADD CONSTRAINT hash_pkey PRIMARY KEY (id);


--
-- Name: job job_pkey; Type: CONSTRAINT; Schema: hangfire; Owner: -
--

ALTER TABLE ONLY hangfire.job
    ADD CONSTRAINT job_pkey PRIMARY KEY (id);


--
-- Name: jobparameter jobparameter_pkey; Type: CONSTRAINT; Schema: hangfire; Owner: -
--

ALTER TABLE ONLY hangfire.jobparameter
    ADD CONSTRAINT jobparameter_pkey PRIMARY KEY (id);


--
-- Name: jobqueue jobqueue_pkey; Type: CONSTRAINT; Schema: hangfire; Owner: -
--

ALTER TABLE ONLY hangfire.jobqueue
    ADD CONSTRAINT jobqueue_pkey PRIMARY KEY (id);


--
-- Name: list list_pkey; Type: CONSTRAINT; Schema: hangfire; Owner: -
--

ALTER TABLE ONLY hangfire.list
    ADD CONSTRAINT list_pkey PRIMARY KEY (id);


--
-- Name: lock lock_resource_key; Type: CONSTRAINT; Schema: hangfire; Owner: -
--

ALTER TABLE ONLY hangfire.lock
    ADD CONSTRAINT lock_resource_key UNIQUE (resource);

ALTER TABLE ONLY hangfire.lock REPLICA IDENTITY USING INDEX lock_resource_key;


--
-- Name: schema schema_pkey; Type: CONSTRAINT; Schema: hangfire; Owner: -
--

ALTER TABLE ONLY hangfire.schema
    ADD CONSTRAINT schema_pkey PRIMARY KEY (version);


--
-- Name: server server_pkey; Type: CONSTRAINT; Schema: hangfire; Owner: -
--

ALTER TABLE ONLY hangfire.server
    ADD CONSTRAINT server_pkey PRIMARY KEY (id);


--
-- Name: set set_key_value_key; Type: CONSTRAINT; Schema: hangfire; Owner: -
--

ALTER TABLE ONLY hangfire.set
    ADD CONSTRAINT set_key_value_key UNIQUE (key, value);


--
-- Name: set set_pkey; Type: CONSTRAINT; Schema: hangfire; Owner: -
--

ALTER TABLE ONLY hangfire.set
    ADD CONSTRAINT set_pkey PRIMARY KEY (id);


--
-- Name: state state_pkey; Type: CONSTRAINT; Schema: hangfire; Owner: -
--

ALTER TABLE ONLY hangfire.state
    ADD CONSTRAINT state_pkey PRIMARY KEY (id);


--
-- Name: builder_audit PK_builder_audit; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.builder_audit
    ADD CONSTRAINT "PK_builder_audit" PRIMARY KEY ("Id");


--
-- Name: builder_build_event_cursors PK_builder_build_event_cursors; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.builder_build_event_cursors
    ADD CONSTRAINT "PK_builder_build_event_cursors" PRIMARY KEY ("Subscriber");


--
-- Name: builder_build_events PK_builder_build_events; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.builder_build_events
    ADD CONSTRAINT "PK_builder_build_events" PRIMARY KEY ("Id");


--
-- Name: builder_build_log PK_builder_build_log; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.builder_build_log
    ADD CONSTRAINT "PK_builder_build_log" PRIMARY KEY ("Id");


--
-- Name: builder_build_parts PK_builder_build_parts; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.builder_build_parts
    ADD CONSTRAINT "PK_builder_build_parts" PRIMARY KEY ("Id");


--
-- Name: builder_build_targets PK_builder_build_targets; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.builder_build_targets
    ADD CONSTRAINT "PK_builder_build_targets" PRIMARY KEY ("Id");


--
-- Name: builder_builds PK_builder_builds; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.builder_builds
    ADD CONSTRAINT "PK_builder_builds" PRIMARY KEY ("Id");


--
-- Name: builder_data_protection_keys PK_builder_data_protection_keys; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.builder_data_protection_keys
    ADD CONSTRAINT "PK_builder_data_protection_keys" PRIMARY KEY ("Id");


--
-- Name: builder_files PK_builder_files; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.builder_files
    ADD CONSTRAINT "PK_builder_files" PRIMARY KEY ("Id");


--
-- Name: builder_forge_reports PK_builder_forge_reports; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.builder_forge_reports
    ADD CONSTRAINT "PK_builder_forge_reports" PRIMARY KEY ("Id");


--
-- Name: builder_instance PK_builder_instance; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.builder_instance
    ADD CONSTRAINT "PK_builder_instance" PRIMARY KEY ("Id");


--
-- Name: builder_people PK_builder_people; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.builder_people
    ADD CONSTRAINT "PK_builder_people" PRIMARY KEY ("Id");


--
-- Name: builder_repositories PK_builder_repositories; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.builder_repositories
    ADD CONSTRAINT "PK_builder_repositories" PRIMARY KEY ("Id");


--
-- Name: builder_tokens PK_builder_tokens; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.builder_tokens
    ADD CONSTRAINT "PK_builder_tokens" PRIMARY KEY ("Id");


--
-- Name: builder_webhook_deliveries PK_builder_webhook_deliveries; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.builder_webhook_deliveries
    ADD CONSTRAINT "PK_builder_webhook_deliveries" PRIMARY KEY ("Id");


--
-- Name: ix_hangfire_counter_expireat; Type: INDEX; Schema: hangfire; Owner: -
--

CREATE INDEX ix_hangfire_counter_expireat ON hangfire.counter USING btree (expireat);


--
-- Name: ix_hangfire_counter_key; Type: INDEX; Schema: hangfire; Owner: -
--

CREATE INDEX ix_hangfire_counter_key ON hangfire.counter USING btree (key);


--
-- Name: ix_hangfire_hash_expireat; Type: INDEX; Schema: hangfire; Owner: -
--

CREATE INDEX ix_hangfire_hash_expireat ON hangfire.hash USING btree (expireat);


--
-- Name: ix_hangfire_job_expireat; Type: INDEX; Schema: hangfire; Owner: -
--

CREATE INDEX ix_hangfire_job_expireat ON hangfire.job USING btree (expireat);


--
-- Name: ix_hangfire_job_statename; Type: INDEX; Schema: hangfire; Owner: -
--

CREATE INDEX ix_hangfire_job_statename ON hangfire.job USING btree (statename);


--
-- Name: ix_hangfire_job_statename_is_not_null; Type: INDEX; Schema: hangfire; Owner: -
--

CREATE INDEX ix_hangfire_job_statename_is_not_null ON hangfire.job USING btree (statename) INCLUDE (id) WHERE (statename IS NOT NULL);


--
-- Name: ix_hangfire_jobparameter_jobidandname; Type: INDEX; Schema: hangfire; Owner: -
--

CREATE INDEX ix_hangfire_jobparameter_jobidandname ON hangfire.jobparameter USING btree (jobid, name);


--
-- Name: ix_hangfire_jobqueue_fetchedat_queue_jobid; Type: INDEX; Schema: hangfire; Owner: -
--

CREATE INDEX ix_hangfire_jobqueue_fetchedat_queue_jobid ON hangfire.jobqueue USING btree (fetchedat NULLS FIRST, queue, jobid);


--
-- Name: ix_hangfire_jobqueue_jobidandqueue; Type: INDEX; Schema: hangfire; Owner: -
--

CREATE INDEX ix_hangfire_jobqueue_jobidandqueue ON hangfire.jobqueue USING btree (jobid, queue);


--
-- Name: ix_hangfire_jobqueue_queueandfetchedat; Type: INDEX; Schema: hangfire; Owner: -
--

CREATE INDEX ix_hangfire_jobqueue_queueandfetchedat ON hangfire.jobqueue USING btree (queue, fetchedat);


--
-- Name: ix_hangfire_list_expireat; Type: INDEX; Schema: hangfire; Owner: -
--

CREATE INDEX ix_hangfire_list_expireat ON hangfire.list USING btree (expireat);


--
-- Name: ix_hangfire_set_expireat; Type: INDEX; Schema: hangfire; Owner: -
--

CREATE INDEX ix_hangfire_set_expireat ON hangfire.set USING btree (expireat);


--
-- Name: ix_hangfire_set_key_score; Type: INDEX; Schema: hangfire; Owner: -
--

CREATE INDEX ix_hangfire_set_key_score ON hangfire.set USING btree (key, score);


--
-- Name: ix_hangfire_state_jobid; Type: INDEX; Schema: hangfire; Owner: -
--

CREATE INDEX ix_hangfire_state_jobid ON hangfire.state USING btree (jobid);


--
-- Name: IX_builder_audit_Action_Id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX "IX_builder_audit_Action_Id" ON public.builder_audit USING btree ("Action", "Id");


--
-- Name: IX_builder_audit_At; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX "IX_builder_audit_At" ON public.builder_audit USING btree ("At");


--
-- Name: IX_builder_audit_Principal_Id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX "IX_builder_audit_Principal_Id" ON public.builder_audit USING btree ("Principal", "Id");


--
-- Name: IX_builder_audit_Project_Id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX "IX_builder_audit_Project_Id" ON public.builder_audit USING btree ("Project", "Id");


--
-- Name: IX_builder_build_events_BuildId_Id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX "IX_builder_build_events_BuildId_Id" ON public.builder_build_events USING btree ("BuildId", "Id");


--
-- Name: IX_builder_build_log_BuildId_Id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX "IX_builder_build_log_BuildId_Id" ON public.builder_build_log USING btree ("BuildId", "Id");


--
-- Name: IX_builder_build_parts_BuildId_State; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX "IX_builder_build_parts_BuildId_State" ON public.builder_build_parts USING btree ("BuildId", "State");


--
-- Name: IX_builder_build_targets_BuildId; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX "IX_builder_build_targets_BuildId" ON public.builder_build_targets USING btree ("BuildId");


--
-- Name: IX_builder_builds_RepositoryId_Tag_CommitSha_Generation; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX "IX_builder_builds_RepositoryId_Tag_CommitSha_Generation" ON public.builder_builds USING btree ("RepositoryId", "Tag", "CommitSha", "Generation");


--
-- Name: IX_builder_builds_State; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX "IX_builder_builds_State" ON public.builder_builds USING btree ("State");


--
-- Name: IX_builder_data_protection_keys_FriendlyName; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX "IX_builder_data_protection_keys_FriendlyName" ON public.builder_data_protection_keys USING btree ("FriendlyName");


--
-- Name: IX_builder_files_Filename; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX "IX_builder_files_Filename" ON public.builder_files USING btree ("Filename");


--
-- Name: IX_builder_files_Project_DeletedAt; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX "IX_builder_files_Project_DeletedAt" ON public.builder_files USING btree ("Project", "DeletedAt");


--
-- Name: IX_builder_forge_reports_BuildId_Id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX "IX_builder_forge_reports_BuildId_Id" ON public.builder_forge_reports USING btree ("BuildId", "Id");


--
-- Name: IX_builder_forge_reports_DueAt; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX "IX_builder_forge_reports_DueAt" ON public.builder_forge_reports USING btree ("DueAt");


--
-- Name: IX_builder_people_UserName; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX "IX_builder_people_UserName" ON public.builder_people USING btree ("UserName");


--
-- Name: IX_builder_repositories_Provider_Instance_Name; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX "IX_builder_repositories_Provider_Instance_Name" ON public.builder_repositories USING btree ("Provider", "Instance", "Name");


--
-- Name: IX_builder_tokens_OwnerId; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX "IX_builder_tokens_OwnerId" ON public.builder_tokens USING btree ("OwnerId");


--
-- Name: IX_builder_tokens_SecretHash; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX "IX_builder_tokens_SecretHash" ON public.builder_tokens USING btree ("SecretHash");


--
-- Name: IX_builder_webhook_deliveries_RepositoryId_Id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX "IX_builder_webhook_deliveries_RepositoryId_Id" ON public.builder_webhook_deliveries USING btree ("RepositoryId", "Id");


--
-- Name: builder_audit builder_audit_append_only; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER builder_audit_append_only BEFORE DELETE OR UPDATE ON public.builder_audit FOR EACH ROW EXECUTE FUNCTION public.builder_audit_append_only();


--
-- Name: builder_audit builder_audit_no_truncate; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER builder_audit_no_truncate BEFORE TRUNCATE ON public.builder_audit FOR EACH STATEMENT EXECUTE FUNCTION public.builder_audit_append_only();


--
-- Name: jobparameter jobparameter_jobid_fkey; Type: FK CONSTRAINT; Schema: hangfire; Owner: -
--

ALTER TABLE ONLY hangfire.jobparameter
    ADD CONSTRAINT jobparameter_jobid_fkey FOREIGN KEY (jobid) REFERENCES hangfire.job(id) ON UPDATE CASCADE ON DELETE CASCADE;


--
-- Name: state state_jobid_fkey; Type: FK CONSTRAINT; Schema: hangfire; Owner: -
--

ALTER TABLE ONLY hangfire.state
    ADD CONSTRAINT state_jobid_fkey FOREIGN KEY (jobid) REFERENCES hangfire.job(id) ON UPDATE CASCADE ON DELETE CASCADE;


--
-- Name: builder_build_parts FK_builder_build_parts_builder_builds_BuildId; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.builder_build_parts
    ADD CONSTRAINT "FK_builder_build_parts_builder_builds_BuildId" FOREIGN KEY ("BuildId") REFERENCES public.builder_builds("Id") ON DELETE CASCADE;


--
-- Name: builder_build_targets FK_builder_build_targets_builder_builds_BuildId; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.builder_build_targets
    ADD CONSTRAINT "FK_builder_build_targets_builder_builds_BuildId" FOREIGN KEY ("BuildId") REFERENCES public.builder_builds("Id") ON DELETE CASCADE;


--
-- Name: builder_builds FK_builder_builds_builder_repositories_RepositoryId; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.builder_builds
    ADD CONSTRAINT "FK_builder_builds_builder_repositories_RepositoryId" FOREIGN KEY ("RepositoryId") REFERENCES public.builder_repositories("Id") ON DELETE CASCADE;


--
-- Name: builder_tokens FK_builder_tokens_builder_people_OwnerId; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.builder_tokens
    ADD CONSTRAINT "FK_builder_tokens_builder_people_OwnerId" FOREIGN KEY ("OwnerId") REFERENCES public.builder_people("Id");


--
-- PostgreSQL database dump complete
--

\unrestrict 16Vy9ZqR9fbVyfaZGoSWv6Lco6L0JcYyldI2RkzLF80lO1KqYmepkBxQac0OQph

