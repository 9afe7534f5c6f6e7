// Package compute owns the stack's servers: ChatBastion, one Ubuntu instance in a public subnet that
// serves live chat over WebSocket and doubles as the SSH bastion, and ApiTier, an internet-facing
// Application Load Balancer in front of an Auto Scaling group of Ubuntu API servers in the private subnets.
//
// It needs plain settings (football:chat, football:api) and wiring values from the other tiers: VPC and
// subnet IDs, database and Redis endpoints, the ARNs of the database secret and of the Redis AUTH
// token's secret, and optional tags for what the servers' launches create. It exposes addresses, URLs and
// security group IDs. It imports nothing from network or data: the stack wires values between components.
//
// Every server boots Ubuntu 24.04 LTS from a launch template with IMDSv2 required, an encrypted gp3 root
// volume and an instance profile for Session Manager. Cloud-init writes the service's settings to
// /etc/football/<service>.env and starts a placeholder systemd unit (football-api.service,
// football-chat.service) that answers HTTP, so health checks pass before the team's app is deployed.
package compute

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Environment profiles, as the stack sets them in each Settings' Profile.
const (
	profileDev  = "dev"
	profileProd = "prod"
)

// Instance families the servers may use, by CPU architecture. The list is deliberately short: a type
// outside it is far more often a typo (t4g.mirco, t2-micro) than a wish, and mocks accept anything.
var instanceFamilies = map[string]string{
	// Graviton (arm64).
	"t4g": "arm64", "m6g": "arm64", "m7g": "arm64", "m8g": "arm64",
	"c6g": "arm64", "c7g": "arm64", "c8g": "arm64", "r6g": "arm64", "r7g": "arm64", "r8g": "arm64",
	// Intel and AMD (amd64).
	"t3": "amd64", "t3a": "amd64", "m5": "amd64", "m6i": "amd64", "m6a": "amd64", "m7i": "amd64", "m7a": "amd64",
	"c5": "amd64", "c6i": "amd64", "c6a": "amd64", "c7i": "amd64", "c7a": "amd64", "r6i": "amd64", "r7i": "amd64",
}

var (
	burstableSizes = []string{"nano", "micro", "small", "medium", "large", "xlarge", "2xlarge"}
	standardSizes  = []string{"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"}
	// Graviton and 7th-generation AMD families also come in a 1-vCPU medium size.
	mediumFamilies = []string{"m6g", "m7g", "m8g", "c6g", "c7g", "c8g", "r6g", "r7g", "r8g", "m7a", "c7a"}
)

// familySizes returns the sizes EC2 offers in a family.
func familySizes(family string) []string {
	if strings.HasPrefix(family, "t") {
		return burstableSizes
	}
	if slices.Contains(mediumFamilies, family) {
		return append([]string{"medium"}, standardSizes...)
	}
	return standardSizes
}

// checkInstanceType explains why instanceType is not one this package runs, or returns "".
func checkInstanceType(instanceType string) string {
	family, size, ok := strings.Cut(instanceType, ".")
	if _, known := instanceFamilies[family]; !ok || !known {
		return "must be <family>.<size> with family one of " + strings.Join(sortedFamilies(), ", ")
	}
	sizes := familySizes(family)
	if !slices.Contains(sizes, size) {
		return fmt.Sprintf("%s comes in %s", family, strings.Join(sizes, ", "))
	}
	return ""
}

func sortedFamilies() []string {
	out := make([]string, 0, len(instanceFamilies))
	for f := range instanceFamilies {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// problems collects validation failures, each naming its full config path.
type problems struct {
	section string // "football:chat"
	errs    []error
}

// fail records "<section>.<path>: <got> is not allowed; <allowed>".
func (p *problems) fail(path string, got any, allowed string) {
	if s, ok := got.(string); ok {
		got = fmt.Sprintf("%q", s)
	}
	p.errs = append(p.errs, fmt.Errorf("%s.%s: %v is not allowed; %s", p.section, path, got, allowed))
}

// wiring records a missing wiring value, which is the caller's (the stack's) bug, not the config's.
func (p *problems) wiring(field string) {
	p.errs = append(p.errs, fmt.Errorf("wiring: %s is required", field))
}

// wired names a wiring input and whether the caller set it.
type wired struct {
	field string
	set   bool
}

// required reports every wiring input the caller left nil.
func (p *problems) required(inputs ...wired) {
	for _, w := range inputs {
		if !w.set {
			p.wiring(w.field)
		}
	}
}

func (p *problems) err() error { return errors.Join(p.errs...) }

func (p *problems) profile(profile string) {
	if profile != profileDev && profile != profileProd {
		p.errs = append(p.errs, fmt.Errorf("wiring: Profile %q is not allowed; the stack sets dev or prod", profile))
	}
}

func (p *problems) region(region string) {
	if !regionName.MatchString(region) {
		p.errs = append(p.errs, fmt.Errorf("wiring: Region %q is not allowed; the stack sets aws:region, e.g. ap-northeast-2", region))
	}
}

func (p *problems) instanceType(path, instanceType string) {
	if why := checkInstanceType(instanceType); why != "" {
		p.fail(path, instanceType, why)
	}
}

func (p *problems) rootVolume(path string, gib int) {
	// Canonical's image snapshot is 8 GiB; the volume may not be smaller.
	if gib < 8 || gib > 1024 {
		p.fail(path, gib, "allowed 8..1024 (GiB)")
	}
}

// keyName checks an EC2 key pair name: 1 to 255 ASCII characters (EC2's limit).
func (p *problems) keyName(path, name string) {
	if name == "" {
		return
	}
	if len(name) > 255 || !keyPairName.MatchString(name) {
		p.fail(path, name, "must be the name of an EC2 key pair in the stack's region (printable ASCII, at most 255 characters)")
	}
}

// cidrs checks a list of CIDR blocks for use in security group rules. When refuseWorld is not "", a
// world-open block (0.0.0.0/0, ::/0) is refused with that explanation.
func (p *problems) cidrs(path string, list []string, refuseWorld string) {
	seen := map[string]bool{}
	for i, c := range list {
		at := fmt.Sprintf("%s[%d]", path, i)
		ip, block, err := net.ParseCIDR(c)
		switch {
		case err != nil:
			p.fail(at, c, "must be a CIDR block such as 203.0.113.0/24 or 2001:db8::/32")
		case !ip.Equal(block.IP):
			p.fail(at, c, fmt.Sprintf("host bits are set; did you mean %s?", block))
		case seen[block.String()]:
			p.fail(at, c, "is listed twice")
		default:
			seen[block.String()] = true
			if ones, _ := block.Mask.Size(); ones == 0 && refuseWorld != "" {
				p.fail(at, c, refuseWorld)
			}
		}
	}
}

var (
	regionName  = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$`)
	keyPairName = regexp.MustCompile(`^[\x20-\x7e]+$`)
)

// isWorld reports whether a CIDR block is all of IPv4 or IPv6.
func isWorld(cidr string) bool {
	_, block, err := net.ParseCIDR(cidr)
	if err != nil {
		return false
	}
	ones, _ := block.Mask.Size()
	return ones == 0
}

// isIPv6 reports whether a (valid) CIDR block is IPv6.
func isIPv6(cidr string) bool { return strings.Contains(cidr, ":") }

// cidrSlug turns a CIDR block into a stable piece of a logical name: rules are named by what they
// admit, not by list position, so reordering the config replaces nothing.
func cidrSlug(cidr string) string {
	return strings.NewReplacer(".", "-", ":", "x", "/", "-").Replace(cidr)
}

// serverSpec is what differs between the chat and the API launch templates.
type serverSpec struct {
	image           pulumi.StringInput // AMI ID
	instanceType    string
	keyName         string
	rootVolumeGiB   int
	instanceProfile pulumi.StringInput  // ARN
	userData        pulumi.StringOutput // base64
	// securityGroupID, when set, goes on the template's network interface along with "no public IP".
	// The chat instance passes its subnet and security group itself: EC2 refuses a launch that names
	// a subnet both on the instance and in a template's network interface.
	securityGroupID pulumi.StringInput
	nameTag         string
	// tags go, with Name, on the instance, its volumes and its network interfaces at launch.
	tags map[string]string
}

// launchTagTypes are the resources a launch creates that the provider's default tags never reach: EC2
// applies a template's tagSpecifications to them at launch, and nothing else tags them. (A launch
// template accepts instance, volume, network-interface and spot-instances-request here.)
var launchTagTypes = []string{"instance", "volume", "network-interface"}

// serverTags is the caller's tags plus Name. Validation refuses a caller's Name, so neither overrides
// the other.
func serverTags(name string, tags map[string]string) pulumi.StringMap {
	out := pulumi.StringMap{"Name": pulumi.String(name)}
	for k, v := range tags {
		out[k] = pulumi.String(v)
	}
	return out
}

// maxServerTags is EC2's limit of 50 tags per resource, less the Name tag.
const maxServerTags = 49

// tags checks the Tags wiring against EC2's tag rules: at most 50 per resource, keys of 1 to 128
// characters not starting with "aws:" (reserved for AWS), values of at most 256 characters. Name is the
// component's own tag.
func (p *problems) tags(tags map[string]string) {
	if len(tags) > maxServerTags {
		p.errs = append(p.errs, fmt.Errorf("wiring: Tags has %d tags; allowed at most %d (EC2 allows 50 per resource, one is Name)", len(tags), maxServerTags))
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case k == "Name":
			p.errs = append(p.errs, errors.New(`wiring: Tags key "Name" is not allowed; the component names its servers`))
		case k == "" || utf8.RuneCountInString(k) > 128:
			p.errs = append(p.errs, fmt.Errorf("wiring: Tags key %q is not allowed; allowed 1..128 characters", k))
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			p.errs = append(p.errs, fmt.Errorf("wiring: Tags key %q is not allowed; the aws: prefix is reserved for AWS", k))
		}
		if utf8.RuneCountInString(tags[k]) > 256 {
			p.errs = append(p.errs, fmt.Errorf("wiring: Tags[%q] value is not allowed; allowed at most 256 characters", k))
		}
	}
}

// newServerTemplate registers a launch template with the settings every server shares: the stack's pinned
// Ubuntu 24.04 image (an AMI ID, which Auto Scaling's automatic rollback requires), IMDSv2 only with a hop limit of 1 (so a container on the host cannot reach the
// instance's credentials; FSBP EC2.8, EC2.170, AutoScaling.3) and an encrypted gp3 root volume (FSBP
// EC2.3, EC2.181).
func newServerTemplate(ctx *pulumi.Context, name string, s serverSpec, opts ...pulumi.ResourceOption) (*ec2.LaunchTemplate, error) {
	args := &ec2.LaunchTemplateArgs{
		Description:  pulumi.String("Ubuntu 24.04 LTS, " + s.nameTag),
		ImageId:      s.image,
		InstanceType: pulumi.String(s.instanceType),
		IamInstanceProfile: &ec2.LaunchTemplateIamInstanceProfileArgs{
			Arn: s.instanceProfile,
		},
		MetadataOptions: &ec2.LaunchTemplateMetadataOptionsArgs{
			HttpEndpoint:            pulumi.String("enabled"),
			HttpTokens:              pulumi.String("required"),
			HttpPutResponseHopLimit: pulumi.Int(1),
		},
		// Ubuntu's root device is /dev/sda1; mapping it overrides the image's volume settings.
		BlockDeviceMappings: ec2.LaunchTemplateBlockDeviceMappingArray{&ec2.LaunchTemplateBlockDeviceMappingArgs{
			DeviceName: pulumi.String("/dev/sda1"),
			Ebs: &ec2.LaunchTemplateBlockDeviceMappingEbsArgs{
				VolumeSize:          pulumi.Int(s.rootVolumeGiB),
				VolumeType:          pulumi.String("gp3"),
				Encrypted:           pulumi.String("true"),
				DeleteOnTermination: pulumi.String("true"),
			},
		}},
		UserData: s.userData,
		Tags:     pulumi.StringMap{"Name": pulumi.String(s.nameTag)},
	}
	var specs ec2.LaunchTemplateTagSpecificationArray
	for _, typ := range launchTagTypes {
		specs = append(specs, &ec2.LaunchTemplateTagSpecificationArgs{
			ResourceType: pulumi.String(typ),
			Tags:         serverTags(s.nameTag, s.tags),
		})
	}
	args.TagSpecifications = specs
	if s.keyName != "" {
		args.KeyName = pulumi.String(s.keyName)
	}
	if s.securityGroupID != nil {
		args.NetworkInterfaces = ec2.LaunchTemplateNetworkInterfaceArray{&ec2.LaunchTemplateNetworkInterfaceArgs{
			DeviceIndex:              pulumi.Int(0),
			AssociatePublicIpAddress: pulumi.String("false"),
			DeleteOnTermination:      pulumi.String("true"),
			SecurityGroups:           pulumi.StringArray{s.securityGroupID},
		}}
	}
	return ec2.NewLaunchTemplate(ctx, name, args, opts...)
}
