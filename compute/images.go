package compute

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const ubuntuImagesType = "football:compute:UbuntuImages"

// imagesSection is the config key ImageSettings is decoded from.
const imagesSection = "football:images"

// CPU architectures of the servers, as Canonical names them in its image parameters.
const (
	ARM64 = "arm64"
	AMD64 = "amd64"
)

// ImageSettings is the football:images config section: the Ubuntu 24.04 LTS image (an AMI ID of the stack's
// region) each CPU architecture runs. A pinned image changes only when this section does, so taking a new
// Ubuntu build is a one-line change that a pull request shows: the API servers roll onto it by instance
// refresh, and the chat server and the NAT instance are replaced (the preview says so).
type ImageSettings struct {
	// ARM64 is the image of Graviton servers (t4g, m7g, c7g, ...). Optional; default the image Canonical
	// published last when the stack was first deployed, kept in the stack's SSM parameter
	// /<project>/<stack>/ubuntu-24.04/arm64/ami-id; allowed ami- and 8 or 17 hexadecimal digits.
	ARM64 string `json:"arm64,omitempty"`
	// AMD64 is the image of Intel and AMD servers (t3, m7i, ...). Optional; default and allowed as for arm64.
	AMD64 string `json:"amd64,omitempty"`
}

var amiID = regexp.MustCompile(`^ami-([0-9a-f]{8}|[0-9a-f]{17})$`)

// Validate reports every malformed image ID at once.
func (s ImageSettings) Validate() error {
	var errs []error
	for _, f := range []struct{ arch, id string }{{ARM64, s.ARM64}, {AMD64, s.AMD64}} {
		if f.id != "" && !amiID.MatchString(f.id) {
			errs = append(errs, fmt.Errorf("%s.%s: %q is not allowed; must be an AMI ID such as ami-0123456789abcdef0 (find the newest: %s)",
				imagesSection, f.arch, f.id, NewestImageCommand(f.arch, "<region>")))
		}
	}
	return errors.Join(errs...)
}

// pinned returns the configured image of arch, or "".
func (s ImageSettings) pinned(arch string) string {
	return map[string]string{ARM64: s.ARM64, AMD64: s.AMD64}[arch]
}

// ubuntuParameter is Canonical's public SSM parameter naming its newest Ubuntu 24.04 LTS image; %s is amd64
// or arm64. https://documentation.ubuntu.com/aws/aws-how-to/instances/find-ubuntu-images/
const ubuntuParameter = "/aws/service/canonical/ubuntu/server/24.04/stable/current/%s/hvm/ebs-gp3/ami-id"

// NewestImageCommand is the AWS CLI command that prints Canonical's newest Ubuntu 24.04 image for arch.
func NewestImageCommand(arch, region string) string {
	return fmt.Sprintf("aws ssm get-parameter --region %s --name %s --query Parameter.Value --output text",
		region, fmt.Sprintf(ubuntuParameter, arch))
}

// Architecture returns the CPU architecture of an instance type (Graviton families arm64, the others
// amd64). It fails for families this package does not know.
func Architecture(instanceType string) (string, error) {
	family, _, _ := strings.Cut(instanceType, ".")
	arch, ok := instanceFamilies[family]
	if !ok {
		return "", fmt.Errorf("instance type %q is not allowed; family must be one of %s",
			instanceType, strings.Join(sortedFamilies(), ", "))
	}
	return arch, nil
}

// UbuntuImagesArgs configures NewUbuntuImages.
type UbuntuImagesArgs struct {
	ImageSettings
	// Architectures are the CPU architectures the stack's servers use. Required, at least one of arm64, amd64.
	Architectures []string
	// ParameterPrefix starts the names of the SSM parameters that keep unpinned images, e.g. /football/dev.
	// Required: a path of letters, digits and . _ - /, starting with /.
	ParameterPrefix string
}

// UbuntuImages is the Ubuntu image of each architecture one stack runs.
type UbuntuImages struct {
	pulumi.ResourceState

	// IDs maps each requested architecture to its AMI ID.
	IDs map[string]pulumi.StringOutput
}

var parameterPath = regexp.MustCompile(`^(/[A-Za-z0-9._-]+)+$`)

// NewUbuntuImages settles the image of each architecture in args. A pinned image is used as it is. An
// unpinned one is Canonical's newest image at the stack's first deployment, recorded in an SSM parameter
// the stack owns (String, data type aws:ec2:image) whose value later deployments ignore: Canonical
// publishes new builds every few weeks, and following them automatically would replace the chat server and
// roll the API fleet at an unplanned moment. Bad args register nothing.
func NewUbuntuImages(ctx *pulumi.Context, name string, args *UbuntuImagesArgs, opts ...pulumi.ResourceOption) (*UbuntuImages, error) {
	if args == nil {
		return nil, fmt.Errorf("ubuntu images %q: args are required", name)
	}
	errs := []error{args.ImageSettings.Validate()}
	if len(args.Architectures) == 0 {
		errs = append(errs, errors.New("wiring: Architectures needs at least one of arm64, amd64"))
	}
	for _, arch := range args.Architectures {
		if arch != ARM64 && arch != AMD64 {
			errs = append(errs, fmt.Errorf("wiring: Architectures has %q; allowed arm64, amd64", arch))
		}
	}
	if !parameterPath.MatchString(args.ParameterPrefix) {
		errs = append(errs, fmt.Errorf("wiring: ParameterPrefix %q is not allowed; must be a path such as /football/dev", args.ParameterPrefix))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("ubuntu images %q: %w", name, err)
	}
	archs := append([]string(nil), args.Architectures...)
	sort.Strings(archs)
	archs = slices.Compact(archs)

	c := &UbuntuImages{IDs: map[string]pulumi.StringOutput{}}
	if err := ctx.RegisterComponentResource(ubuntuImagesType, name, c, opts...); err != nil {
		return nil, err
	}
	outs := pulumi.Map{}
	for _, arch := range archs {
		if id := args.pinned(arch); id != "" {
			c.IDs[arch] = pulumi.String(id).ToStringOutput()
		} else {
			newest := ssm.LookupParameterOutput(ctx, ssm.LookupParameterOutputArgs{
				Name: pulumi.String(fmt.Sprintf(ubuntuParameter, arch)),
			}, pulumi.Parent(c))
			p, err := ssm.NewParameter(ctx, name+"-"+arch, &ssm.ParameterArgs{
				Name:        pulumi.String(args.ParameterPrefix + "/ubuntu-24.04/" + arch + "/ami-id"),
				Description: pulumi.String("Ubuntu 24.04 LTS image of the stack's " + arch + " servers, recorded at the first deployment; pin another in football:images." + arch),
				Type:        pulumi.String("String"),
				DataType:    pulumi.String("aws:ec2:image"),
				// An image ID is no secret; the lookup's result is marked secret as a whole because the
				// parameter's value field is, which would hide the image from every preview.
				InsecureValue: pulumi.Unsecret(newest.InsecureValue()).(pulumi.StringOutput),
			}, pulumi.Parent(c), pulumi.IgnoreChanges([]string{"insecureValue"}))
			if err != nil {
				return nil, err
			}
			c.IDs[arch] = p.InsecureValue
		}
		outs[arch] = c.IDs[arch]
	}
	if err := ctx.RegisterResourceOutputs(c, outs); err != nil {
		return nil, err
	}
	return c, nil
}
